-- The desk's settings, one JSON document by name (office_hours: the team's weekly
-- hours, time zone, holidays and automatic reply; domain::office_hours).
CREATE TABLE desk_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Who the customer is, kept with their conversation: the email they left with a
-- message while the desk was closed, the page and browser the widget said they wrote
-- from (JSON), and the attributes the shop put in their token's claims (JSON).
ALTER TABLE conversations ADD COLUMN contact_email TEXT;
ALTER TABLE conversations ADD COLUMN customer_context TEXT;
ALTER TABLE conversations ADD COLUMN customer_attributes TEXT;
