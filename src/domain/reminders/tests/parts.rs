//! The partial plans (one scope of a conference: some users' DMs, some talks, the channel
//! posts) against the reference: on random programmes, subscriptions, lead times and
//! channel plans, each part is exactly the full plan's posts in its scope, so a planner
//! that replans only what changed leaves the same outbox as one that replans everything.

use std::collections::{BTreeSet, HashMap};

use chrono::Duration;
use proptest::prelude::*;

use super::*;
use crate::domain::model::{Slot, TalkStatus};

const ROOMS: [&str; 3] = ["Barn", "Room 2", "barn"];
const TRACKS: [&str; 2] = ["Data", "Web"];

/// One generated talk: room, track (index into the lists, or none), start hour, whether it
/// has a slot, whether it is cancelled.
type TalkSpec = (usize, Option<usize>, i64, bool, bool);

fn programme(specs: &[TalkSpec]) -> Programme {
    let template = seed_import().talks.remove(0);
    let start = utc("2026-04-25T09:00:00Z");
    let talks = specs
        .iter()
        .map(|&(room, track, hour, slotted, cancelled)| {
            let mut data = template.clone();
            data.room = Some(ROOMS[room % ROOMS.len()].into());
            data.track = track.map(|t| TRACKS[t % TRACKS.len()].into());
            data.slot = slotted.then(|| Slot {
                start: start + Duration::hours(hour),
                end: start + Duration::hours(hour) + Duration::minutes(30),
                all_day: false,
            });
            if cancelled {
                data.status = TalkStatus::Cancelled;
            }
            data
        })
        .collect();
    programme_of(Tz::Europe__Berlin, stored(talks, 3))
}

/// (user, target kind 0-2, index) -> a subscription to a talk id, a room or a track.
fn subscriptions(specs: &[(u64, u8, usize)], talks: usize) -> Vec<Subscription> {
    specs
        .iter()
        .map(|&(user, kind, index)| {
            let target = match kind % 3 {
                0 => SubscriptionTarget::Talk(TalkId(
                    i64::try_from(index % talks.max(1)).unwrap_or(0) + 1,
                )),
                1 => SubscriptionTarget::Room(ROOMS[index % ROOMS.len()].to_owned()),
                _ => SubscriptionTarget::Track(TRACKS[index % TRACKS.len()].to_owned()),
            };
            subscribe(user, target)
        })
        .collect()
}

fn as_set(posts: Vec<PlannedPost>) -> BTreeSet<(PostKey, DateTime<Utc>)> {
    posts.into_iter().map(|post| (post.key, post.due)).collect()
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(128))]

    #[test]
    fn every_part_is_exactly_the_full_plan_in_its_scope(
        talk_specs in prop::collection::vec((0usize..3, prop::option::of(0usize..2), 0i64..30, any::<bool>(), prop::bool::weighted(0.15)), 1..10),
        subscription_specs in prop::collection::vec((1u64..8, any::<u8>(), 0usize..12), 0..30),
        lead_specs in prop::collection::vec((1u64..8, 0i64..=120), 0..5),
        default_minutes in 0i64..=120,
        with_default_channel in any::<bool>(),
        barn_channel in any::<bool>(),
        some_talks in prop::collection::btree_set(1i64..12, 0..5),
        some_users in prop::collection::btree_set(1u64..8, 0..4),
    ) {
        let programme = programme(&talk_specs);
        let subscriptions = subscriptions(&subscription_specs, talk_specs.len());
        let leads: HashMap<u64, LeadTime> =
            lead_specs.iter().map(|&(user, minutes)| (user, lead(minutes))).collect();
        let default_lead = lead(default_minutes);
        let mut plan_channels_to = channels();
        if !barn_channel {
            plan_channels_to.by_room.clear();
        }
        if !with_default_channel {
            plan_channels_to.default = None;
        }
        let full = plan(&programme, &subscriptions, &leads, default_lead, &plan_channels_to);
        let in_full = |keep: &dyn Fn(&PlannedPost) -> bool| {
            as_set(full.iter().filter(|post| keep(post)).cloned().collect())
        };

        let channel_part = plan_channels(&programme, &plan_channels_to);
        prop_assert_eq!(
            as_set(channel_part),
            in_full(&|post| matches!(post.key.target, Target::Channel(_)))
        );

        let talks: BTreeSet<TalkId> = some_talks.iter().map(|id| TalkId(*id)).collect();
        let talk_part = plan_talks(
            &programme, &subscriptions, &leads, default_lead, &plan_channels_to, &talks,
        );
        prop_assert_eq!(
            as_set(talk_part),
            in_full(&|post| post.key.subject.talk().is_some_and(|t| talks.contains(&t)))
        );

        let mine: Vec<Subscription> = subscriptions
            .iter()
            .filter(|s| some_users.contains(&s.user))
            .cloned()
            .collect();
        let user_part = plan_dms(&programme, &mine, &leads, default_lead);
        prop_assert_eq!(
            as_set(user_part),
            in_full(&|post| matches!(post.key.target, Target::Dm(user) if some_users.contains(&user)))
        );

        // Everybody's DMs, one user at a time, and the channel posts: the whole plan.
        let mut pieces = as_set(plan_channels(&programme, &plan_channels_to));
        for user in 1..8 {
            let theirs: Vec<Subscription> =
                subscriptions.iter().filter(|s| s.user == user).cloned().collect();
            pieces.extend(as_set(plan_dms(&programme, &theirs, &leads, default_lead)));
        }
        prop_assert_eq!(pieces, as_set(full.clone()));
    }
}
