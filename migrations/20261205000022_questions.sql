-- Questions with votes (issue 14, item 2): `/ask` posts a question in its talk's Q&A
-- thread as a card with an Upvote button; chairs see them by votes with `/questions`.
--
-- A question belongs to the server it was asked in and the thread its card is in. The asker
-- is kept even when the card is anonymous: organisers see who asked in the audit log, and
-- `/forget` removes it. state: 'open', 'answered' (the card says so) or 'hidden' (the card
-- is deleted from the thread and the question left out of `/questions`).
CREATE TABLE questions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    talk_id       bigint NOT NULL REFERENCES talks (id) ON DELETE CASCADE,
    guild_id      bigint NOT NULL,
    thread_id     bigint NOT NULL,
    asker_id      bigint NOT NULL,
    anonymous     boolean NOT NULL,
    text          text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 1000),
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'hidden')),
    asked_at      timestamptz NOT NULL,
    -- The card once posted, and the text it shows: a card whose text would not change is
    -- not edited again (a burst of votes costs one edit per state shown, not one per vote).
    message_id    bigint,
    shown_content text
);
-- `/questions` of a talk in a server; the one-question-per-30-seconds check.
CREATE INDEX questions_talk ON questions (talk_id, guild_id);
CREATE INDEX questions_recent ON questions (talk_id, asker_id, asked_at DESC);
CREATE INDEX questions_asker ON questions (asker_id);

-- One vote per person and question: a second click takes it back.
CREATE TABLE question_votes (
    question_id bigint NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
CREATE INDEX question_votes_user ON question_votes (user_id);

-- A card to post or bring up to date goes through the outbox like every message: one row
-- per change (schedule_version: a number from this sequence), the card's text read when the
-- row is sent, so the last row sent shows the last state.
CREATE SEQUENCE question_card_changes AS integer CYCLE;
ALTER TABLE outbox ADD COLUMN question_id bigint REFERENCES questions (id) ON DELETE CASCADE;
ALTER TABLE outbox DROP CONSTRAINT outbox_one_subject;
ALTER TABLE outbox ADD CONSTRAINT outbox_one_subject
    CHECK (num_nonnulls(talk_id, announcement_id, import_id, panel_id, question_id) = 1);
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'moved', 'cancelled', 'announcement', 'schedule_update',
                    'board', 'thread', 'thread_close', 'question'));
CREATE UNIQUE INDEX outbox_question_key
    ON outbox (target_kind, target_id, question_id, kind, schedule_version)
    WHERE question_id IS NOT NULL;
CREATE INDEX outbox_question ON outbox (question_id) WHERE question_id IS NOT NULL;

-- "Which talk is this thread for": `/ask` typed in a talk's thread.
CREATE INDEX outbox_thread_messages ON outbox (message_id) WHERE kind = 'thread' AND status = 'sent';

-- /setup questions: anonymous cards allowed, and the role that chairs sessions (organisers
-- always may).
ALTER TABLE guild_settings ADD COLUMN questions_anonymous boolean NOT NULL DEFAULT false;
ALTER TABLE guild_settings ADD COLUMN questions_chair_role bigint;
