import Database

/// Migration 34, automatic failover: a portal may name a backup account of its owner, which
/// takes the portal's new uploads while its own account is in ERROR or DISCONNECTED. The
/// database refuses a backup that is the portal's own account or another owner's.
/// `failover_notified_at` marks an incident the owner was already told of (cleared when the
/// portal's own account is ACTIVE again, so the next incident is told again).
enum FailoverSchema {
    static let version = 34
    static let name = "portal backup accounts"

    static let sqlite = """
        ALTER TABLE portals ADD COLUMN backup_storage_account_id INTEGER REFERENCES storage_accounts (id);
        ALTER TABLE portals ADD COLUMN failover_notified_at INTEGER;
        CREATE INDEX portals_backup_account ON portals (backup_storage_account_id) WHERE backup_storage_account_id IS NOT NULL;
        CREATE TRIGGER portals_backup_is_another_own_account BEFORE INSERT ON portals
        WHEN NEW.backup_storage_account_id IS NOT NULL
         AND (NEW.backup_storage_account_id IS NEW.storage_account_id
              OR (SELECT user_id FROM storage_accounts WHERE id = NEW.backup_storage_account_id) IS NOT NEW.user_id)
        BEGIN
            SELECT RAISE(ABORT, 'portals.backup_storage_account_id must be another storage account of the portal''s owner');
        END;
        CREATE TRIGGER portals_backup_stays_another_own_account BEFORE UPDATE OF backup_storage_account_id, storage_account_id, user_id ON portals
        WHEN NEW.backup_storage_account_id IS NOT NULL
         AND (NEW.backup_storage_account_id IS NEW.storage_account_id
              OR (SELECT user_id FROM storage_accounts WHERE id = NEW.backup_storage_account_id) IS NOT NEW.user_id)
        BEGIN
            SELECT RAISE(ABORT, 'portals.backup_storage_account_id must be another storage account of the portal''s owner');
        END;
        """

    static let postgresql = """
        ALTER TABLE portals ADD COLUMN backup_storage_account_id BIGINT REFERENCES storage_accounts (id);
        ALTER TABLE portals ADD COLUMN failover_notified_at BIGINT;
        CREATE INDEX portals_backup_account ON portals (backup_storage_account_id) WHERE backup_storage_account_id IS NOT NULL;
        CREATE FUNCTION portals_backup_is_another_own_account() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.backup_storage_account_id IS NOT DISTINCT FROM NEW.storage_account_id
               OR (SELECT user_id FROM storage_accounts WHERE id = NEW.backup_storage_account_id) IS DISTINCT FROM NEW.user_id THEN
                RAISE EXCEPTION 'portals.backup_storage_account_id must be another storage account of the portal''s owner';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER portals_backup_is_another_own_account BEFORE INSERT OR UPDATE OF backup_storage_account_id, storage_account_id, user_id
            ON portals FOR EACH ROW WHEN (NEW.backup_storage_account_id IS NOT NULL)
            EXECUTE FUNCTION portals_backup_is_another_own_account();
        """

    static let migrations = (sqlite: Migration(version, name, sqlite), postgresql: Migration(version, name, postgresql))
}
