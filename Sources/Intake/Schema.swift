import Database

/// Intake's database schema as numbered migrations. Later issues append; nothing released is
/// edited.
public enum Schema {
    /// Every migration, in order.
    public static let migrations: [Migration] = [
        Migration(1, "users and sessions", """
            CREATE TABLE users (
                id INTEGER PRIMARY KEY,
                email TEXT NOT NULL,
                email_normalized TEXT NOT NULL UNIQUE COLLATE NOCASE,
                name TEXT NOT NULL COLLATE NOCASE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
                disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE INDEX users_name ON users (name);

            CREATE TABLE sessions (
                id INTEGER PRIMARY KEY,
                token_hash BLOB NOT NULL UNIQUE,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                csrf_token TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                last_seen_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                remote_address TEXT NOT NULL DEFAULT '',
                user_agent TEXT NOT NULL DEFAULT ''
            );
            CREATE INDEX sessions_user ON sessions (user_id);
            CREATE INDEX sessions_expiry ON sessions (expires_at);

            CREATE TABLE sign_in_failures (
                key TEXT PRIMARY KEY,
                failures INTEGER NOT NULL,
                last_failure_at INTEGER NOT NULL
            );
            """),
        Migration(2, "pricing, tariff plans, quotas, audit log", """
            CREATE TABLE storage_pricing_versions (
                id INTEGER PRIMARY KEY,
                price_per_gb_minor INTEGER NOT NULL CHECK (price_per_gb_minor >= 0),
                currency TEXT NOT NULL,
                min_gb INTEGER NOT NULL CHECK (min_gb >= 1),
                max_gb INTEGER NOT NULL CHECK (max_gb >= min_gb),
                validity_days INTEGER CHECK (validity_days IS NULL OR validity_days >= 1),
                free_storage_bytes INTEGER NOT NULL CHECK (free_storage_bytes >= 0),
                over_quota_policy TEXT NOT NULL CHECK (over_quota_policy IN ('block', 'delete_oldest')),
                grace_days INTEGER CHECK (grace_days IS NULL OR grace_days >= 1),
                created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
                created_at INTEGER NOT NULL
            );

            CREATE TABLE tariff_plans (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                monthly_price_minor INTEGER NOT NULL CHECK (monthly_price_minor >= 0),
                currency TEXT NOT NULL,
                storage_bytes INTEGER NOT NULL CHECK (storage_bytes >= 0),
                max_file_bytes INTEGER NOT NULL CHECK (max_file_bytes >= 1),
                max_portals INTEGER NOT NULL CHECK (max_portals >= 0),
                active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                archived_at INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );

            ALTER TABLE users ADD COLUMN plan_id INTEGER REFERENCES tariff_plans (id);
            ALTER TABLE users ADD COLUMN quota_override_bytes INTEGER CHECK (quota_override_bytes IS NULL OR quota_override_bytes >= 0);
            -- Maintained counters: bytes stored, and bytes of purchases that have not expired.
            ALTER TABLE users ADD COLUMN storage_used_bytes INTEGER NOT NULL DEFAULT 0 CHECK (storage_used_bytes >= 0);
            ALTER TABLE users ADD COLUMN purchased_extra_bytes INTEGER NOT NULL DEFAULT 0 CHECK (purchased_extra_bytes >= 0);
            CREATE INDEX users_plan ON users (plan_id);
            CREATE INDEX users_used ON users (storage_used_bytes);

            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
                action TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT,
                before_json TEXT,
                after_json TEXT,
                remote_address TEXT NOT NULL DEFAULT '',
                created_at INTEGER NOT NULL
            );
            CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
            CREATE INDEX audit_log_actor ON audit_log (actor_id);
            CREATE INDEX audit_log_action ON audit_log (action);
            """),
        Migration(3, "maintained effective quota", QuotaMaintenance.migration),
        Migration(4, "balance ledger", """
            CREATE TABLE balance_ledger (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id),
                amount_minor INTEGER NOT NULL,
                currency TEXT NOT NULL,
                reason TEXT NOT NULL,
                reference TEXT,
                idempotency_key TEXT UNIQUE,
                created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX balance_ledger_user ON balance_ledger (user_id, currency);
            CREATE TRIGGER balance_ledger_no_update BEFORE UPDATE ON balance_ledger BEGIN
                SELECT RAISE(ABORT, 'the balance ledger is append-only');
            END;
            CREATE TRIGGER balance_ledger_no_delete BEFORE DELETE ON balance_ledger BEGIN
                SELECT RAISE(ABORT, 'the balance ledger is append-only');
            END;
            """),
        Migration(5, "oauth accounts, storage accounts, portals", """
            -- OAuth accounts: an identity at a provider and its tokens (sealed with the secret key).
            CREATE TABLE oauth_accounts (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                provider TEXT NOT NULL CHECK (provider IN ('google', 'dropbox')),
                provider_account_id TEXT NOT NULL,
                email TEXT,
                name TEXT,
                scopes TEXT NOT NULL DEFAULT '',
                access_token_sealed BLOB,
                refresh_token_sealed BLOB,
                access_token_expires_at INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                UNIQUE (provider, provider_account_id)
            );
            CREATE INDEX oauth_accounts_user ON oauth_accounts (user_id);

            -- Storage accounts: where files go. Unique per user, provider account and provider.
            CREATE TABLE storage_accounts (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                provider TEXT NOT NULL CHECK (provider IN ('google_drive', 'dropbox', 'local')),
                provider_account_id TEXT NOT NULL,
                display_name TEXT NOT NULL,
                email TEXT,
                status TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'INACTIVE', 'DISCONNECTED', 'ERROR')),
                last_error TEXT,
                last_accessed_at INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                UNIQUE (user_id, provider_account_id, provider)
            );

            CREATE TABLE portals (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                slug TEXT NOT NULL UNIQUE,
                storage_account_id INTEGER REFERENCES storage_accounts (id),
                active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                -- Set when the system (not the owner) switched the portal off, so that only those
                -- are switched back on when their storage account recovers.
                auto_deactivated INTEGER NOT NULL DEFAULT 0 CHECK (auto_deactivated IN (0, 1)),
                inactive_reason TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE INDEX portals_user ON portals (user_id);
            CREATE INDEX portals_storage_account ON portals (storage_account_id);
            """),
        Migration(6, "token refresh leases", """
            -- One refresh per OAuth account at a time, across every process: a row is the lease.
            CREATE TABLE oauth_refresh_leases (
                oauth_account_id INTEGER PRIMARY KEY REFERENCES oauth_accounts (id) ON DELETE CASCADE,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            );
            """),
        Migration(7, "oauth states", """
            -- The `state` of an authorization request in flight: bound to the browser's session,
            -- single use, ten minutes. Only its hash is stored; the PKCE verifier is sealed.
            CREATE TABLE oauth_states (
                state_hash BLOB PRIMARY KEY,
                session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                provider TEXT NOT NULL,
                verifier_sealed BLOB NOT NULL,
                expires_at INTEGER NOT NULL
            );
            """),
        Migration(8, "file uploads with a permanent storage binding", """
            CREATE TABLE file_uploads (
                id INTEGER PRIMARY KEY,
                portal_id INTEGER NOT NULL REFERENCES portals (id),
                user_id INTEGER NOT NULL REFERENCES users (id),
                storage_account_id INTEGER REFERENCES storage_accounts (id),
                provider_file_id TEXT,
                provider_path TEXT,
                file_name TEXT NOT NULL,
                content_type TEXT,
                size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
                sha256 TEXT,
                client_name TEXT,
                client_email TEXT,
                client_message TEXT,
                status TEXT NOT NULL DEFAULT 'receiving'
                    CHECK (status IN ('receiving', 'received', 'scanning', 'delivering', 'uploaded', 'rejected', 'failed')),
                failure_reason TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE INDEX file_uploads_user ON file_uploads (user_id, created_at);
            CREATE INDEX file_uploads_portal ON file_uploads (portal_id, created_at);
            CREATE INDEX file_uploads_account ON file_uploads (storage_account_id);
            CREATE INDEX file_uploads_status ON file_uploads (status);
            -- A file stays bound to the storage account it landed in: once set, the binding never
            -- changes — enforced here, not only by code.
            CREATE TRIGGER file_uploads_binding_is_permanent BEFORE UPDATE OF storage_account_id ON file_uploads
            WHEN OLD.storage_account_id IS NOT NULL AND NEW.storage_account_id IS NOT OLD.storage_account_id
            BEGIN
                SELECT RAISE(ABORT, 'file_uploads.storage_account_id is permanent once set');
            END;
            """),
        Migration(9, "quota reservations", """
            -- Space held for uploads in progress, so parallel uploads can never pass a quota together.
            CREATE TABLE upload_reservations (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                bytes INTEGER NOT NULL CHECK (bytes >= 0),
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            );
            CREATE INDEX upload_reservations_user ON upload_reservations (user_id, expires_at);
            """),
        Migration(10, "mail outbox", """
            -- Mail is queued in the same transaction as what it reports, and sent by a job, so a
            -- mail server that is down never fails an upload.
            CREATE TABLE mail_outbox (
                id INTEGER PRIMARY KEY,
                to_address TEXT NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                sent_at INTEGER,
                failed_at INTEGER,
                last_error TEXT,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, failed_at, next_attempt_at);
            """),
        Migration(11, "portal settings", """
            ALTER TABLE portals ADD COLUMN description TEXT NOT NULL DEFAULT '';
            ALTER TABLE portals ADD COLUMN folder_name TEXT NOT NULL DEFAULT '';
            ALTER TABLE portals ADD COLUMN provider_folder_id TEXT;
            ALTER TABLE portals ADD COLUMN client_subfolders INTEGER NOT NULL DEFAULT 0 CHECK (client_subfolders IN (0, 1));
            ALTER TABLE portals ADD COLUMN password_hash TEXT;
            ALTER TABLE portals ADD COLUMN client_name_mode TEXT NOT NULL DEFAULT 'required' CHECK (client_name_mode IN ('required', 'optional', 'hidden'));
            ALTER TABLE portals ADD COLUMN client_email_mode TEXT NOT NULL DEFAULT 'optional' CHECK (client_email_mode IN ('required', 'optional', 'hidden'));
            ALTER TABLE portals ADD COLUMN message_field INTEGER NOT NULL DEFAULT 1 CHECK (message_field IN (0, 1));
            ALTER TABLE portals ADD COLUMN max_file_bytes INTEGER CHECK (max_file_bytes IS NULL OR max_file_bytes > 0);
            ALTER TABLE portals ADD COLUMN allowed_extensions TEXT NOT NULL DEFAULT '';
            ALTER TABLE portals ADD COLUMN max_files INTEGER NOT NULL DEFAULT 20 CHECK (max_files BETWEEN 1 AND 1000);
            """),
        Migration(12, "job leadership", """
            -- One runner of the background jobs per database at a time, across hosts: a lease row.
            CREATE TABLE job_leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            );
            """),
        Migration(13, "resumable (tus) uploads", """
            -- A tus upload in progress. The id is the unguessable capability in its URL. The offset
            -- here is the authority: the spool file is cut back to it before more is written, so
            -- bytes a crashed writer left beyond it never count. sha256_state is the running hash
            -- up to the offset, so any worker can go on without reading the file again.
            CREATE TABLE tus_uploads (
                id TEXT PRIMARY KEY,
                portal_id INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
                storage_account_id INTEGER NOT NULL REFERENCES storage_accounts (id),
                reservation_id INTEGER,
                upload_length INTEGER NOT NULL CHECK (upload_length >= 0),
                upload_offset INTEGER NOT NULL DEFAULT 0 CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
                sha256_state BLOB NOT NULL,
                head BLOB NOT NULL,
                file_name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                client_fields TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'receiving'
                    CHECK (status IN ('receiving', 'received', 'scanning', 'delivering', 'uploaded', 'rejected', 'failed')),
                failure_reason TEXT,
                file_upload_id INTEGER REFERENCES file_uploads (id) ON DELETE SET NULL,
                remote_address TEXT NOT NULL DEFAULT '',
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            );
            CREATE INDEX tus_uploads_expiry ON tus_uploads (expires_at);
            """),
        Migration(14, "background delivery", """
            -- A received file waits in its spool until a worker delivers it to the provider. The
            -- provider's resumable session is kept here so another process can resume it; the
            -- lease says who is delivering it now (host:pid) and until when.
            ALTER TABLE file_uploads ADD COLUMN spool_path TEXT;
            ALTER TABLE file_uploads ADD COLUMN provider_session TEXT;
            ALTER TABLE file_uploads ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE file_uploads ADD COLUMN next_attempt_at INTEGER;
            ALTER TABLE file_uploads ADD COLUMN deliver_until INTEGER;
            ALTER TABLE file_uploads ADD COLUMN lease_holder TEXT;
            ALTER TABLE file_uploads ADD COLUMN lease_expires INTEGER;
            ALTER TABLE file_uploads ADD COLUMN delivered_at INTEGER;
            -- The folder path (a JSON array of names) the file goes to, fixed when it arrived.
            ALTER TABLE file_uploads ADD COLUMN target_folder TEXT;
            CREATE INDEX file_uploads_delivery ON file_uploads (next_attempt_at) WHERE status = 'delivering';
            -- The process whose request holds a reservation (host:pid); a dead one's are dropped at once.
            ALTER TABLE upload_reservations ADD COLUMN holder TEXT;
            """),
        // A plain rowid gives a deleted row's id to the next row, and these ids reach URLs,
        // receipts and mail: an old link would then show someone else's row.
        Migration(15, "ids are never reused", rebuildsTables: true) { db in
            for table in ["users", "tariff_plans", "storage_accounts", "portals", "file_uploads"] {
                try TableRebuild.rebuild(db, table: table, change: TableRebuild.autoincrementID)
            }
        },
        Migration(16, "receipt secrets", """
            -- A receipt names a file by its id and this per-file random secret (signed with the
            -- site's key), so a receipt can never name another file. Files from before have none.
            ALTER TABLE file_uploads ADD COLUMN receipt_secret TEXT;
            """),
        Migration(17, "notification preferences", """
            -- How an owner hears of uploads: a mail each, a daily digest, or nothing; a portal may
            -- choose otherwise (NULL: as its owner chose).
            ALTER TABLE users ADD COLUMN upload_notifications TEXT NOT NULL DEFAULT 'each' CHECK (upload_notifications IN ('each', 'daily', 'none'));
            ALTER TABLE users ADD COLUMN digest_started_at INTEGER;
            ALTER TABLE portals ADD COLUMN upload_notifications TEXT CHECK (upload_notifications IS NULL OR upload_notifications IN ('each', 'daily', 'none'));
            -- Deliveries waiting for their owner's next daily digest.
            CREATE TABLE upload_digest_items (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                line TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX upload_digest_items_user ON upload_digest_items (user_id, id);
            """),
        // The status lists the schema admits are the lifecycles' own: a recorded file is only ever
        // delivering, uploaded or failed, and a tus upload never `failed`.
        Migration(18, "status lists from the lifecycles", rebuildsTables: true) { db in
            /// The status column as migration 8 and 13 wrote it, whatever its white space.
            func statusColumn(_ create: String, default value: String, _ list: String) throws -> String {
                guard let old = create.firstMatch(of: /status TEXT NOT NULL DEFAULT 'receiving'\s+CHECK \(status IN \([^)]*\)\)/) else {
                    throw DatabaseError(.migration, "no status column in \(create.prefix(60))")
                }
                var changed = create
                changed.replaceSubrange(old.range, with: "status TEXT NOT NULL DEFAULT '\(value)' CHECK (status IN (\(list)))")
                return changed
            }
            try TableRebuild.rebuild(db, table: "file_uploads") {
                try statusColumn($0, default: FileUploadStatus.delivering.rawValue, FileUploadStatus.sqlList)
            }
            try TableRebuild.rebuild(db, table: "tus_uploads") {
                try statusColumn($0, default: TusUploadStatus.receiving.rawValue, TusUploadStatus.sqlList)
            }
        },
        Migration(19, "storage purchases and idempotency keys", """
            -- A one-time purchase of extra storage, priced by the pricing version in force.
            CREATE TABLE storage_purchases (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                pricing_version_id INTEGER NOT NULL REFERENCES storage_pricing_versions (id),
                gb INTEGER NOT NULL CHECK (gb >= 1),
                bytes INTEGER NOT NULL CHECK (bytes >= 1),
                cost_minor INTEGER NOT NULL CHECK (cost_minor >= 0),
                currency TEXT NOT NULL,
                starts_at INTEGER NOT NULL,
                expires_at INTEGER,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX storage_purchases_user ON storage_purchases (user_id, id);
            -- A client's Idempotency-Key: the first answer to a request, replayed to every repeat.
            CREATE TABLE idempotency_keys (
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                status INTEGER NOT NULL,
                body BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (user_id, scope, key)
            );
            CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
            """),
        Migration(20, "purchase expiry", """
            -- Set once, by whichever process expires (or reminds of) a purchase first.
            ALTER TABLE storage_purchases ADD COLUMN expired_at INTEGER;
            ALTER TABLE storage_purchases ADD COLUMN reminded_at INTEGER;
            CREATE INDEX storage_purchases_due ON storage_purchases (expires_at) WHERE expired_at IS NULL;
            """),
        Migration(21, "plan renewals", """
            -- A plan's billing periods run from the day it was given (its anniversary each month).
            -- plan_renews_at: the start of the period that is due and not yet paid (NULL: nothing
            -- to charge); plan_grace_until: set while a renewal the balance could not pay waits.
            ALTER TABLE users ADD COLUMN plan_anchor_at INTEGER;
            ALTER TABLE users ADD COLUMN plan_renews_at INTEGER;
            ALTER TABLE users ADD COLUMN plan_grace_until INTEGER;
            UPDATE users SET plan_anchor_at = updated_at WHERE plan_id IS NOT NULL;
            UPDATE users SET plan_renews_at = updated_at
                WHERE plan_id IN (SELECT id FROM tariff_plans WHERE monthly_price_minor > 0);
            CREATE INDEX users_plan_due ON users (plan_renews_at) WHERE plan_renews_at IS NOT NULL;
            -- One row per user and billing period: charged once, whatever runs the job.
            CREATE TABLE plan_renewals (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                plan_id INTEGER NOT NULL REFERENCES tariff_plans (id),
                period_start INTEGER NOT NULL,
                period_end INTEGER NOT NULL,
                amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
                currency TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('paid', 'failed', 'lapsed')),
                grace_until INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                UNIQUE (user_id, period_start)
            );
            CREATE INDEX plan_renewals_created ON plan_renewals (created_at);
            """),
        Migration(22, "daily usage snapshots", """
            -- Bytes each user stored, once per UTC day (day = days since 1970-01-01).
            CREATE TABLE usage_snapshots (
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                day INTEGER NOT NULL,
                bytes INTEGER NOT NULL CHECK (bytes >= 0),
                quota_bytes INTEGER NOT NULL,
                PRIMARY KEY (user_id, day)
            ) WITHOUT ROWID;
            CREATE INDEX usage_snapshots_day ON usage_snapshots (day);
            """),
        Migration(23, "over-quota enforcement", """
            -- When the enforcement job first saw the user over quota (NULL: within it), and when
            -- it told them; delete_oldest acts once the pricing's grace days have passed since.
            ALTER TABLE users ADD COLUMN over_quota_since INTEGER;
            ALTER TABLE users ADD COLUMN over_quota_notified_at INTEGER;
            CREATE INDEX users_over_quota_since ON users (over_quota_since) WHERE over_quota_since IS NOT NULL;
            """),
        Migration(24, "maintained balances and billing totals", """
            -- Each user's balance per currency, kept equal to the sum of their ledger rows by a
            -- trigger on every append, so reading a balance costs the same at ten rows or a
            -- million; the CHECK makes the database itself refuse a row that would take it below zero.
            CREATE TABLE balances (
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                currency TEXT NOT NULL,
                balance_minor INTEGER NOT NULL CHECK (balance_minor >= 0),
                PRIMARY KEY (user_id, currency)
            ) WITHOUT ROWID;
            INSERT INTO balances (user_id, currency, balance_minor)
                SELECT user_id, currency, sum(amount_minor) FROM balance_ledger GROUP BY user_id, currency;
            -- (Not an upsert: SQLite checks the CHECK on the row it would insert before it finds
            -- the conflict, so a debit's negative amount would be refused.)
            CREATE TRIGGER balance_ledger_balance AFTER INSERT ON balance_ledger BEGIN
                UPDATE balances SET balance_minor = balance_minor + NEW.amount_minor WHERE user_id = NEW.user_id AND currency = NEW.currency;
                INSERT INTO balances (user_id, currency, balance_minor) SELECT NEW.user_id, NEW.currency, NEW.amount_minor
                WHERE NOT EXISTS (SELECT 1 FROM balances WHERE user_id = NEW.user_id AND currency = NEW.currency);
            END;
            -- What plans and purchases earned per UTC day and currency, added to by every debit
            -- that pays for one, so the billing report reads a row a day whatever the ledger's size.
            CREATE TABLE revenue_daily (
                day INTEGER NOT NULL,
                currency TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('plan', 'purchase')),
                earned_minor INTEGER NOT NULL,
                PRIMARY KEY (day, currency, kind)
            ) WITHOUT ROWID;
            INSERT INTO revenue_daily (day, currency, kind, earned_minor)
                SELECT created_at / 86400, currency, CASE WHEN reference LIKE 'renewal:%' THEN 'plan' ELSE 'purchase' END, -sum(amount_minor)
                FROM balance_ledger WHERE amount_minor < 0 AND (reference LIKE 'renewal:%' OR reference LIKE 'purchase:%')
                GROUP BY 1, 2, 3;
            CREATE TRIGGER balance_ledger_revenue AFTER INSERT ON balance_ledger
            WHEN NEW.amount_minor < 0 AND (NEW.reference LIKE 'renewal:%' OR NEW.reference LIKE 'purchase:%') BEGIN
                INSERT INTO revenue_daily (day, currency, kind, earned_minor)
                VALUES (NEW.created_at / 86400, NEW.currency, CASE WHEN NEW.reference LIKE 'renewal:%' THEN 'plan' ELSE 'purchase' END, -NEW.amount_minor)
                ON CONFLICT (day, currency, kind) DO UPDATE SET earned_minor = earned_minor + excluded.earned_minor;
            END;
            -- Unpaid renewals by period, users in grace.
            CREATE INDEX plan_renewals_unpaid ON plan_renewals (period_start) WHERE status IN ('failed', 'lapsed');
            CREATE INDEX users_grace ON users (plan_grace_until) WHERE plan_grace_until IS NOT NULL;
            -- Every user's bytes per day, summed once when the day's snapshots are taken, so a
            -- year of site-wide GB-days reads 365 rows whatever the number of users.
            CREATE TABLE usage_daily_totals (
                day INTEGER PRIMARY KEY,
                users INTEGER NOT NULL,
                bytes INTEGER NOT NULL
            );
            INSERT INTO usage_daily_totals (day, users, bytes) SELECT day, count(*), sum(bytes) FROM usage_snapshots GROUP BY day;
            """),
        Migration(25, "lists that cost the same at a million files", """
            -- Each list's order and filter has an index that yields its rows in order (every
            -- index ends in the row id, so (x, created_at) serves ORDER BY created_at, id).
            DROP INDEX file_uploads_account;
            CREATE INDEX file_uploads_account ON file_uploads (storage_account_id, created_at);
            CREATE INDEX file_uploads_user_status ON file_uploads (user_id, status, created_at);
            DROP INDEX portals_user;
            CREATE INDEX portals_user ON portals (user_id, created_at);
            -- The audit log by entity type, newest first (the (entity_type, entity_id) index is not in id order).
            CREATE INDEX audit_log_entity_type ON audit_log (entity_type);
            -- Uploaded files and bytes per portal, per storage account and per status site-wide,
            -- kept by triggers the way usage is, so no page counts files.
            ALTER TABLE portals ADD COLUMN uploaded_files INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE storage_accounts ADD COLUMN uploaded_files INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE storage_accounts ADD COLUMN uploaded_bytes INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE file_totals (
                status TEXT PRIMARY KEY,
                files INTEGER NOT NULL,
                bytes INTEGER NOT NULL
            );
            -- Users, administrators, disabled users and portals, for the operator's overview.
            CREATE TABLE site_counts (
                name TEXT PRIMARY KEY CHECK (name IN ('users', 'admins', 'disabled', 'portals')),
                n INTEGER NOT NULL
            );
            INSERT INTO site_counts (name, n)
                SELECT 'users', count(*) FROM users UNION ALL SELECT 'admins', count(*) FROM users WHERE role = 'admin'
                UNION ALL SELECT 'disabled', count(*) FROM users WHERE disabled = 1 UNION ALL SELECT 'portals', count(*) FROM portals;
            CREATE TRIGGER users_counted_in AFTER INSERT ON users BEGIN
                UPDATE site_counts SET n = n + 1 WHERE name = 'users' OR (name = 'admins' AND NEW.role = 'admin') OR (name = 'disabled' AND NEW.disabled = 1);
            END;
            CREATE TRIGGER users_counted_out AFTER DELETE ON users BEGIN
                UPDATE site_counts SET n = n - 1 WHERE name = 'users' OR (name = 'admins' AND OLD.role = 'admin') OR (name = 'disabled' AND OLD.disabled = 1);
            END;
            CREATE TRIGGER users_counted_again AFTER UPDATE OF role, disabled ON users BEGIN
                UPDATE site_counts SET n = n - 1 WHERE (name = 'admins' AND OLD.role = 'admin') OR (name = 'disabled' AND OLD.disabled = 1);
                UPDATE site_counts SET n = n + 1 WHERE (name = 'admins' AND NEW.role = 'admin') OR (name = 'disabled' AND NEW.disabled = 1);
            END;
            CREATE TRIGGER portals_counted_in AFTER INSERT ON portals BEGIN
                UPDATE site_counts SET n = n + 1 WHERE name = 'portals';
            END;
            CREATE TRIGGER portals_counted_out AFTER DELETE ON portals BEGIN
                UPDATE site_counts SET n = n - 1 WHERE name = 'portals';
            END;
            \(KeptCounts.deliveredCounts)
            CREATE TRIGGER file_uploads_counted_in AFTER INSERT ON file_uploads BEGIN
                INSERT INTO file_totals (status, files, bytes) VALUES (NEW.status, 1, NEW.size_bytes)
                    ON CONFLICT (status) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
                UPDATE portals SET uploaded_files = uploaded_files + 1 WHERE id = NEW.portal_id AND NEW.status = 'uploaded';
                UPDATE storage_accounts SET uploaded_files = uploaded_files + 1, uploaded_bytes = uploaded_bytes + NEW.size_bytes
                    WHERE id = NEW.storage_account_id AND NEW.status = 'uploaded';
            END;
            CREATE TRIGGER file_uploads_counted_out AFTER DELETE ON file_uploads BEGIN
                UPDATE file_totals SET files = files - 1, bytes = bytes - OLD.size_bytes WHERE status = OLD.status;
                UPDATE portals SET uploaded_files = uploaded_files - 1 WHERE id = OLD.portal_id AND OLD.status = 'uploaded';
                UPDATE storage_accounts SET uploaded_files = uploaded_files - 1, uploaded_bytes = uploaded_bytes - OLD.size_bytes
                    WHERE id = OLD.storage_account_id AND OLD.status = 'uploaded';
            END;
            CREATE TRIGGER file_uploads_counted_again AFTER UPDATE OF status, size_bytes, portal_id, storage_account_id ON file_uploads BEGIN
                UPDATE file_totals SET files = files - 1, bytes = bytes - OLD.size_bytes WHERE status = OLD.status;
                INSERT INTO file_totals (status, files, bytes) VALUES (NEW.status, 1, NEW.size_bytes)
                    ON CONFLICT (status) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
                UPDATE portals SET uploaded_files = uploaded_files - 1 WHERE id = OLD.portal_id AND OLD.status = 'uploaded';
                UPDATE portals SET uploaded_files = uploaded_files + 1 WHERE id = NEW.portal_id AND NEW.status = 'uploaded';
                UPDATE storage_accounts SET uploaded_files = uploaded_files - 1, uploaded_bytes = uploaded_bytes - OLD.size_bytes
                    WHERE id = OLD.storage_account_id AND OLD.status = 'uploaded';
                UPDATE storage_accounts SET uploaded_files = uploaded_files + 1, uploaded_bytes = uploaded_bytes + NEW.size_bytes
                    WHERE id = NEW.storage_account_id AND NEW.status = 'uploaded';
            END;
            -- The client filter: a prefix of the client's name or address, per owner (a range
            -- of these indexes; LIKE's case folding is NOCASE's).
            CREATE INDEX file_uploads_client_name ON file_uploads (user_id, client_name COLLATE NOCASE);
            CREATE INDEX file_uploads_client_email ON file_uploads (user_id, client_email COLLATE NOCASE);
            -- The search box: file names by substring, through a trigram index (the candidates
            -- it gives are checked against the exact filter).
            CREATE VIRTUAL TABLE file_search USING fts5 (file_name, content = 'file_uploads', content_rowid = 'id', tokenize = 'trigram');
            INSERT INTO file_search (rowid, file_name) SELECT id, file_name FROM file_uploads;
            CREATE TRIGGER file_uploads_search_in AFTER INSERT ON file_uploads BEGIN
                INSERT INTO file_search (rowid, file_name) VALUES (NEW.id, NEW.file_name);
            END;
            CREATE TRIGGER file_uploads_search_out AFTER DELETE ON file_uploads BEGIN
                INSERT INTO file_search (file_search, rowid, file_name) VALUES ('delete', OLD.id, OLD.file_name);
            END;
            CREATE TRIGGER file_uploads_search_again AFTER UPDATE OF file_name ON file_uploads BEGIN
                INSERT INTO file_search (file_search, rowid, file_name) VALUES ('delete', OLD.id, OLD.file_name);
                INSERT INTO file_search (rowid, file_name) VALUES (NEW.id, NEW.file_name);
            END;
            -- Statistics for the new indexes, so a planner that has statistics for the old ones
            -- does not take an index it knows nothing of as the cheaper way to an owner's files.
            PRAGMA analysis_limit = 1000;
            ANALYZE file_uploads;
            ANALYZE portals;
            ANALYZE audit_log;
            """),
        Migration(26, "storage account health checks", """
            -- The health-check job's schedule and incident record (StorageHealthChecks). The due
            -- accounts are those whose next check has come: an account in ERROR on its backoff,
            -- an ACTIVE cloud account a day after its last check or use. NULL: never checked
            -- (paused, disconnected, an active local disk).
            ALTER TABLE storage_accounts ADD COLUMN health_checked_at INTEGER;
            ALTER TABLE storage_accounts ADD COLUMN health_next_check_at INTEGER;
            -- Consecutive failures: the one that put the account in ERROR, then each failed check.
            ALTER TABLE storage_accounts ADD COLUMN health_failures INTEGER NOT NULL DEFAULT 0 CHECK (health_failures >= 0);
            -- The state the owner was last mailed about in the open incident (NULL: none mailed,
            -- or no incident); cleared when the account is ACTIVE again. When the last such mail went.
            ALTER TABLE storage_accounts ADD COLUMN health_mailed_status TEXT CHECK (health_mailed_status IN ('ERROR', 'DISCONNECTED'));
            ALTER TABLE storage_accounts ADD COLUMN health_mailed_at INTEGER;
            UPDATE storage_accounts SET
                health_failures = CASE WHEN status = 'ERROR' THEN 1 ELSE 0 END,
                health_next_check_at = CASE
                    WHEN status = 'ERROR' THEN updated_at + 60
                    WHEN status = 'ACTIVE' AND provider <> 'local' THEN coalesce(last_accessed_at, created_at) + 86400
                END;
            CREATE INDEX storage_accounts_health_due ON storage_accounts (health_next_check_at) WHERE health_next_check_at IS NOT NULL;
            """),
        Migration(27, "files missing at their provider", """
            -- When reconciliation found a delivered file gone from its provider (deleted there
            -- behind Intake's back); NULL while the provider has it. The row, its status and its
            -- usage stay as they are: the owner sees the file marked, and deleting it frees its bytes.
            ALTER TABLE file_uploads ADD COLUMN missing_since INTEGER;
            """),
        Migration(28, "job runs", """
            -- Each background job's last pass, so an operator sees which ran, when, and which fail.
            CREATE TABLE job_runs (
                name TEXT PRIMARY KEY,
                last_run_at INTEGER NOT NULL,
                last_ok_at INTEGER,
                last_failed_at INTEGER,
                last_error TEXT,
                failures_in_a_row INTEGER NOT NULL DEFAULT 0,
                milliseconds INTEGER NOT NULL DEFAULT 0
            );
            """),
        Migration(29, "diagnostics that cost the same at a million files", """
            -- Files that name no storage account (data from before the binding), per owner: few or
            -- none, so `intake diagnose` and the portal check count them without reading the rest.
            CREATE INDEX file_uploads_unbound ON file_uploads (user_id) WHERE storage_account_id IS NULL;
            """),
        Migration(30, "personal API tokens", """
            -- Tokens scripts call the API with instead of a browser session: only the SHA-256 of
            -- the token is kept (it is shown once), with its first characters to tell them apart.
            CREATE TABLE api_tokens (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                token_hash BLOB NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                scope TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
                created_at INTEGER NOT NULL,
                last_used_at INTEGER,
                revoked_at INTEGER
            );
            CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);
            """),
        Migration(31, "portal file families and branding", """
            -- The families of types a portal is narrowed to (documents, images, video, audio,
            -- archives), comma-separated, beside its free list of extensions; both empty: any file.
            -- Existing portals keep their extensions and gain no family, so they take what they took.
            ALTER TABLE portals ADD COLUMN allowed_families TEXT NOT NULL DEFAULT '';
            -- The owner's accent colour (#rrggbb, lower case) for the portal page; NULL: the default.
            ALTER TABLE portals ADD COLUMN accent_color TEXT CHECK (accent_color IS NULL OR length(accent_color) = 7);
            -- The logo's text alternative and when it was last set (NULL: no logo); its bytes live
            -- apart, so reading portals never reads images.
            ALTER TABLE portals ADD COLUMN logo_alt TEXT;
            ALTER TABLE portals ADD COLUMN logo_updated_at INTEGER;
            CREATE TABLE portal_logos (
                portal_id INTEGER PRIMARY KEY REFERENCES portals (id) ON DELETE CASCADE,
                content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
                bytes BLOB NOT NULL CHECK (length(bytes) <= 262144)
            );
            """),
        Migration(32, "the owner's last dashboard visit", """
            -- When the owner last opened the dashboard: the files that came in after it are
            -- "new since your last visit" on the next one (counted through file_uploads_user).
            ALTER TABLE users ADD COLUMN dashboard_visited_at INTEGER;
            """),
        Migration(33, "the dashboard's visits", """
            -- A visit is the dashboard's views less than 30 minutes apart: dashboard_visited_at
            -- is the latest view, dashboard_previous_visit_at the last view of the visit before,
            -- so reloading within a visit keeps its "new" marks and writes at most once a minute.
            ALTER TABLE users ADD COLUMN dashboard_previous_visit_at INTEGER;
            UPDATE users SET dashboard_previous_visit_at = dashboard_visited_at;
            """),
        FailoverSchema.migrations.sqlite,
        WebhookSchema.sqlite,
        AnalyticsSchema.sqliteMigration,
        MigrationSchema.migrations.sqlite,
        OverQuotaCountSchema.migrations.sqlite,
        OwnerSearchSchema.migrations.sqlite,
    ]

    /// The migrator over `migrations`.
    public static var migrator: Migrator { Migrator(migrations, postgresql: postgresqlMigrations) }

    /// PostgreSQL starts at version 33 (see `PostgreSQLSchema`); later migrations follow here.
    public static let postgresqlMigrations: [Migration] = [
        Migration(PostgreSQLSchema.baseVersion, "schema at version 33", PostgreSQLSchema.base),
        FailoverSchema.migrations.postgresql,
        WebhookSchema.postgresql,
        AnalyticsSchema.postgresqlMigration,
        MigrationSchema.migrations.postgresql,
        OverQuotaCountSchema.migrations.postgresql,
        OwnerSearchSchema.migrations.postgresql,
    ]
}

/// Intake's version, reported by `/healthz` and `intake --version`.
public enum IntakeVersion {
    public static let current = "0.1.0"
}
