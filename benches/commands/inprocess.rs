//! Server-side latency inside the process: from a deserialised interaction to the JSON body
//! of its response, along the path `confbot::discord`'s router takes.
//!
//! Per interaction, as `src/discord/interactions.rs` does it: parse the options
//! (`discord::registry`), map the guild to its conference, get the programme snapshot from
//! the cache, run the command logic (`commands::answer` / `commands::autocomplete`, inside
//! `catch_unwind` like the router), render every message of the reply to serenity builders
//! (`discord::render`, autocomplete choices built as the router builds them) and serialise
//! them to the JSON serenity sends. Only the HTTP round trip to Discord is left out.
//!
//! The adapter's programme cache (`src/discord/cache.rs`) is private to the crate, so
//! [`Cache`] repeats its logic: a map of slots, a snapshot trusted for one second, then one
//! version query (`store::programme::version`) and a reload only when the version changed.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use confbot::config::GuildConferences;
use confbot::discord::{registry, render};
use confbot::domain::commands::{self, limits, Reply, Visibility};
use confbot::domain::model::ConferenceSlug;
use confbot::domain::programme::Programme;
use confbot::domain::search::SearchIndex;
use serenity::all::{
    AutocompleteChoice, CommandInteraction, CreateAutocompleteResponse, CreateInteractionResponse,
    GuildId,
};
use sqlx::PgPool;

use super::heap;
use super::stats::Samples;

/// The adapter's `VERSION_CHECK_EVERY`.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The adapter's programme cache, repeated (see the module docs).
pub struct Cache {
    pool: PgPool,
    slots: Mutex<HashMap<ConferenceSlug, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    current: RwLock<Option<(Arc<Programme>, i64, Instant)>>,
    refresh: tokio::sync::Mutex<()>,
}

impl Cache {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(&self, slug: &ConferenceSlug) -> anyhow::Result<Arc<Programme>> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(slug.clone()).or_default())
        };
        let fresh = |slot: &Slot| {
            let current = slot.current.read().unwrap_or_else(PoisonError::into_inner);
            current
                .clone()
                .filter(|(_, _, checked)| checked.elapsed() < CHECK_EVERY)
                .map(|(programme, _, _)| programme)
        };
        if let Some(programme) = fresh(&slot) {
            return Ok(programme);
        }
        let _refreshing = slot.refresh.lock().await;
        if let Some(programme) = fresh(&slot) {
            return Ok(programme);
        }
        let previous = slot
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let version = confbot::store::programme::version(&self.pool, slug).await?;
        let programme = match previous.filter(|(_, known, _)| *known == version) {
            Some((programme, _, _)) => programme,
            None => Arc::new(
                confbot::store::programme::load(&self.pool, slug)
                    .await?
                    .context("the benchmark conference is not stored")?,
            ),
        };
        *slot.current.write().unwrap_or_else(PoisonError::into_inner) =
            Some((Arc::clone(&programme), version, Instant::now()));
        Ok(programme)
    }
}

/// The time of each step of one interaction, and of all of them.
#[derive(Default)]
pub struct Steps {
    pub total: Samples,
    pub parse: Samples,
    pub cache: Samples,
    pub logic: Samples,
    pub render: Samples,
    /// Bytes of JSON produced per interaction (all messages), summed.
    pub bytes: usize,
}

/// What the router needs: the cache and the guild -> conference mapping.
pub struct Adapter {
    pub cache: Cache,
    pub guilds: GuildConferences,
}

impl Adapter {
    async fn programme(&self, guild: Option<GuildId>) -> anyhow::Result<Arc<Programme>> {
        let slug = match guild {
            Some(guild) => self.guilds.conference_for(guild.get()),
            None => self.guilds.default_conference.as_ref(),
        }
        .context("the benchmark guild is not mapped to a conference")?;
        self.cache.get(slug).await
    }

    /// One slash command, timed step by step.
    pub async fn command(
        &self,
        interaction: &CommandInteraction,
        steps: &mut Steps,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        let registry::Invocation::Lookup(command) =
            registry::parse(&interaction.data.name, &interaction.data.options)?
        else {
            anyhow::bail!("the benchmark measures lookup commands only");
        };
        let parsed = Instant::now();
        let programme = self.programme(interaction.guild_id).await?;
        let cached = Instant::now();
        let reply = std::panic::catch_unwind(AssertUnwindSafe(|| {
            commands::answer(&programme, Utc::now(), &command)
        }))
        .map_err(|_| anyhow::anyhow!("the command logic panicked on {command:?}"))?;
        let answered = Instant::now();
        let bytes = render_reply(&reply)?;
        let rendered = Instant::now();
        steps.parse.push(parsed - start);
        steps.cache.push(cached - parsed);
        steps.logic.push(answered - cached);
        steps.render.push(rendered - answered);
        steps.total.push(rendered - start);
        steps.bytes += bytes;
        Ok(())
    }

    /// One autocomplete request, timed step by step.
    pub async fn autocomplete(
        &self,
        interaction: &CommandInteraction,
        steps: &mut Steps,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        let focused = interaction
            .data
            .autocomplete()
            .context("no focused option")?;
        let field = registry::autocomplete_field(&interaction.data.name, focused.name)
            .context("the focused option does not autocomplete")?;
        let parsed = Instant::now();
        let programme = self.programme(interaction.guild_id).await?;
        let cached = Instant::now();
        let choices = commands::autocomplete(&programme, field, focused.value);
        let answered = Instant::now();
        // As the router builds the response.
        let choices = choices
            .into_iter()
            .filter(|choice| choice.value.chars().count() <= limits::CHOICE_VALUE)
            .take(limits::AUTOCOMPLETE_CHOICES)
            .map(|choice| {
                AutocompleteChoice::new(
                    commands::truncate(&choice.name, limits::CHOICE_NAME),
                    choice.value,
                )
            })
            .collect();
        let response = CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(choices),
        );
        let bytes = serde_json::to_vec(&response)?.len();
        let rendered = Instant::now();
        steps.parse.push(parsed - start);
        steps.cache.push(cached - parsed);
        steps.logic.push(answered - cached);
        steps.render.push(rendered - answered);
        steps.total.push(rendered - start);
        steps.bytes += bytes;
        Ok(())
    }
}

/// Every message of a reply as the router sends it (the first as the response, the rest as
/// follow-ups), serialised; returns the bytes produced. All messages count: the follow-ups
/// are sent right after the response and are part of answering.
fn render_reply(reply: &Reply) -> anyhow::Result<usize> {
    let ephemeral = reply.visibility == Visibility::Ephemeral;
    let (first, rest) = reply
        .messages
        .split_first()
        .context("a reply without messages")?;
    let response = CreateInteractionResponse::Message(render::response(first, ephemeral));
    let mut bytes = serde_json::to_vec(&response)?.len();
    for message in rest {
        bytes += serde_json::to_vec(&render::followup(message, ephemeral))?.len();
    }
    Ok(bytes)
}

/// What the store costs behind the cache.
pub struct StoreCosts {
    /// The version query alone.
    pub version: Samples,
    /// A cold load: the query and `Programme::new`.
    pub load: Samples,
    /// Heap bytes held after a cold load (the snapshot, and buffers the load left behind).
    pub load_heap: usize,
    /// The most heap bytes held at once during the load, above what was held before.
    pub load_peak: usize,
}

/// The version query alone (what a cached snapshot costs once per second) and the cold load
/// of the whole programme (what the first command after a start or an import costs).
pub async fn store_costs(pool: &PgPool, slug: &ConferenceSlug) -> anyhow::Result<StoreCosts> {
    let mut version = Samples::default();
    for _ in 0..200 {
        let start = Instant::now();
        confbot::store::programme::version(pool, slug).await?;
        version.push(start.elapsed());
    }
    let mut load = Samples::default();
    let mut heap = (0, 0);
    for _ in 0..3 {
        let before = heap::allocated();
        heap::reset_peak();
        let start = Instant::now();
        let programme = confbot::store::programme::load(pool, slug).await?;
        load.push(start.elapsed());
        heap = (
            heap::allocated().saturating_sub(before),
            heap::peak().saturating_sub(before),
        );
        drop(programme);
    }
    Ok(StoreCosts {
        version,
        load,
        load_heap: heap.0,
        load_peak: heap.1,
    })
}

/// What a programme snapshot costs to build, and the heap it holds.
pub struct SnapshotCost {
    /// `Programme::new` on the stored talks: sorting and every precomputed lookup.
    pub build: Samples,
    /// `SearchIndex::build` alone (part of `build`).
    pub index: Samples,
    /// Heap bytes of the talks as loaded (titles, abstracts, speakers, bios).
    pub talks_bytes: usize,
    /// Of those, the bytes of the long texts (abstracts, descriptions, biographies).
    pub long_text_bytes: usize,
    /// Heap bytes of the talks as the snapshot keeps them (long texts taken out).
    pub kept_talks_bytes: usize,
    /// Heap bytes of the search index.
    pub index_bytes: usize,
    /// Heap bytes of the whole snapshot (talks, lookups, index).
    pub programme_bytes: usize,
    /// The most heap bytes `Programme::new` holds at once, talks included.
    pub build_peak: usize,
}

/// Measures [`SnapshotCost`] on the stored conference.
pub async fn snapshot_cost(pool: &PgPool, slug: &ConferenceSlug) -> anyhow::Result<SnapshotCost> {
    let stored = confbot::store::programme::load(pool, slug)
        .await?
        .context("the benchmark conference is not stored")?;
    // The talks as the store gives them, long texts included (the snapshot keeps those apart).
    let loaded: Vec<_> = (0..stored.talks.len())
        .filter_map(|i| stored.full_talk(i))
        .collect();
    let long_text_bytes = loaded
        .iter()
        .map(|t| {
            let d = &t.data;
            // Lengths: the texts are boxed since b489c9c (before, this summed capacities).
            let text = |s: &Option<Box<str>>| s.as_ref().map_or(0, |s| s.len());
            text(&d.abstract_text)
                + text(&d.description)
                + d.speakers
                    .iter()
                    .map(|s| s.biography.as_ref().map_or(0, |b| b.len()))
                    .sum::<usize>()
        })
        .sum();
    let mut build = Samples::default();
    let mut index = Samples::default();
    let mut cost = SnapshotCost {
        build: Samples::default(),
        index: Samples::default(),
        talks_bytes: 0,
        long_text_bytes,
        kept_talks_bytes: 0,
        index_bytes: 0,
        programme_bytes: 0,
        build_peak: 0,
    };
    for _ in 0..3 {
        let (talks, talks_bytes) = heap::held(|| loaded.clone());
        let (conference, days) = (stored.conference.clone(), stored.days.clone());
        let before = heap::allocated();
        heap::reset_peak();
        let start = Instant::now();
        let (programme, programme_bytes) = heap::held(|| Programme::new(conference, days, talks));
        build.push(start.elapsed());
        cost.build_peak = heap::peak().saturating_sub(before) + talks_bytes;
        let start = Instant::now();
        let (search, index_bytes) =
            heap::held(|| SearchIndex::build(&loaded, programme.speakers()));
        index.push(start.elapsed());
        drop(search);
        let (kept, kept_talks_bytes) = heap::held(|| programme.talks.clone());
        drop(kept);
        cost.kept_talks_bytes = kept_talks_bytes;
        cost.talks_bytes = talks_bytes;
        // The talks moved into the programme: its own bytes are the rest.
        cost.programme_bytes = programme_bytes + talks_bytes;
        cost.index_bytes = index_bytes;
    }
    cost.build = build;
    cost.index = index;
    Ok(cost)
}
