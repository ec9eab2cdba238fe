-- The catalogue's figures: each provider's transfers of the last 30 days, counted from the
-- checktoken traces by kind and time.
CREATE INDEX IF NOT EXISTS traces_by_kind_at ON traces (kind, at);
-- The partner service behind a production client: the catalogue names its organisation.
ALTER TABLE partner_services ADD COLUMN production_client_id TEXT;
CREATE INDEX IF NOT EXISTS partner_services_by_client ON partner_services (production_client_id);
