//! What planning takes (the settings, a conference's inputs) and what a replan reports.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::Settings;
use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::domain::reminders::{plan, ChannelPlan, LeadTime, PlannedPost, Subscription};

/// What planning needs from the settings.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// A subscriber's lead time until they choose their own.
    pub default_lead: LeadTime,
    /// The channel lead of conferences without a channel plan.
    pub channel_lead: LeadTime,
    /// Configured channel plans (a plan stored by `/channel` wins).
    pub channels: Vec<(ConferenceSlug, ChannelPlan)>,
}

impl PlanSettings {
    pub fn from_settings(settings: &Settings) -> Self {
        let minutes = settings.defaults.lead_time.num_minutes();
        Self {
            // Validated to 0..=120 when the settings were loaded.
            default_lead: LeadTime::from_minutes(minutes)
                .unwrap_or(settings.reminders.channel_lead),
            channel_lead: settings.reminders.channel_lead,
            channels: settings.reminders.channels.clone(),
        }
    }

    pub(super) fn configured_channels(&self, slug: &ConferenceSlug) -> ChannelPlan {
        self.channels
            .iter()
            .find(|(conference, _)| conference == slug)
            .map(|(_, plan)| plan.clone())
            .unwrap_or_else(|| ChannelPlan {
                by_room: Default::default(),
                default: None,
                lead: self.channel_lead,
                names: Default::default(),
            })
    }
}

/// Everything the pure planner takes for one conference.
pub struct PlanInputs {
    pub programme: Arc<Programme>,
    pub subscriptions: Vec<Subscription>,
    pub leads: HashMap<u64, LeadTime>,
    pub default_lead: LeadTime,
    pub channels: ChannelPlan,
}

impl PlanInputs {
    /// Every reminder these inputs call for.
    pub fn plan(&self) -> Vec<PlannedPost> {
        plan(
            &self.programme,
            &self.subscriptions,
            &self.leads,
            self.default_lead,
            &self.channels,
        )
    }
}

/// What one replan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replanned {
    /// Reminders the plan calls for.
    pub planned: usize,
    /// Outbox rows added (reminders and notices).
    pub added: usize,
    /// Pending rows whose time or text changed, or retired rows brought back.
    pub replanned: usize,
    /// Pending reminders dropped because the plan no longer calls for them.
    pub retired: u64,
    /// Change notices queued from new imports.
    pub notices: usize,
    /// Schedule update posts queued from new imports.
    pub updates: usize,
}

impl Replanned {
    /// Whether the outbox may now hold work due earlier than before.
    pub fn touched_outbox(&self) -> bool {
        self.added > 0 || self.replanned > 0
    }

    pub(crate) fn add(&mut self, other: Replanned) {
        self.planned += other.planned;
        self.added += other.added;
        self.replanned += other.replanned;
        self.retired += other.retired;
        self.notices += other.notices;
        self.updates += other.updates;
    }
}
