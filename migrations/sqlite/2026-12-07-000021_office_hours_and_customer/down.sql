ALTER TABLE conversations DROP COLUMN customer_attributes;
ALTER TABLE conversations DROP COLUMN customer_context;
ALTER TABLE conversations DROP COLUMN contact_email;
DROP TABLE desk_settings;
