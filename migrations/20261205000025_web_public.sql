-- Public web pages (issue 15, items 3-4): /setup web public:on publishes the conference's
-- calendar feed (/c/<slug>.ics) and room screens (/c/<slug>/screen). A conference is public
-- while any server following it has turned this on.
ALTER TABLE guild_settings ADD COLUMN web_public boolean NOT NULL DEFAULT false;
