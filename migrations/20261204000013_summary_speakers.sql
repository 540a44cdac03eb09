-- /setup speakers: read a non-pretalx iCalendar SUMMARY as "Title - Speaker" when the
-- server's schedule source is synced (domain::import::ImportOptions::summary_speakers).
ALTER TABLE guild_settings ADD COLUMN summary_speakers boolean NOT NULL DEFAULT false;
