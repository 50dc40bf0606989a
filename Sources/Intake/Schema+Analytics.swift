import Database

/// Migration 36: the storage analytics' rollups, kept by triggers in the transaction of every
/// change to `file_uploads`, so the analytics page reads a few hundred small rows whatever the
/// number of files, and never a file row.
///
/// - `upload_days`: per owner, portal, storage account (0: none yet) and UTC day of arrival, the
///   files received (any state), their bytes, and how many of them failed delivery.
/// - `upload_types`: per owner, portal and storage account, the files stored (delivered) and
///   their bytes by extension (lower case, letters and digits, at most 10; '' for none or
///   another); `FileTypes` turns an extension into its family when it is read.
/// - `upload_clients`: the files stored and their bytes per client (the address the client gave,
///   lower case, or else the name; '' for neither), once per owner, once per portal and once per
///   storage account, so the largest ten of any of them are the first ten of one index.
///
/// A row's figures are those of the files that exist: a deleted file leaves the rollups, as it
/// leaves the lists (the rows stay, at zero).
enum AnalyticsSchema {
    static let version = 36
    static let name = "storage analytics rollups"

    /// The extension `FileTypes.fileExtension` reads from `name`, as the rollups key it.
    static func extensionSQL(_ name: String, _ dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite:
            // rtrim with every character of the name but '.' leaves the name up to its last dot.
            let head = "rtrim(\(name), replace(\(name), '.', ''))"
            let ext = "lower(substr(\(name), length(\(head)) + 1))"
            return """
                (CASE WHEN length(\(head)) > 1 AND length(\(ext)) BETWEEN 1 AND 10 AND \(ext) NOT GLOB '*[^a-z0-9]*' THEN \(ext) ELSE '' END)
                """
        case .postgresql:
            let ext = "lower(substring(\(name)::text from '^.+\\.([^.]*)$'))"
            return "(CASE WHEN \(ext) ~ '^[a-z0-9]{1,10}$' THEN \(ext) ELSE '' END)"
        }
    }

    /// The client a row names: the e-mail address (lower case), else the name, else ''.
    static func clientSQL(_ row: String, _ dialect: SQLDialect) -> String {
        let cast = dialect == .postgresql ? "::text" : ""
        return """
            (CASE WHEN trim(coalesce(\(row)client_email\(cast), '')) <> '' THEN lower(trim(\(row)client_email\(cast))) \
            ELSE trim(coalesce(\(row)client_name\(cast), '')) END)
            """
    }

    static let tables = """
        CREATE TABLE upload_days (
            user_id BIGINT NOT NULL,
            portal_id BIGINT NOT NULL,
            storage_account_id BIGINT NOT NULL,
            day BIGINT NOT NULL,
            uploads BIGINT NOT NULL CHECK (uploads >= 0),
            bytes BIGINT NOT NULL CHECK (bytes >= 0),
            failures BIGINT NOT NULL CHECK (failures >= 0 AND failures <= uploads),
            PRIMARY KEY (user_id, day, portal_id, storage_account_id)
        );
        CREATE INDEX upload_days_portal ON upload_days (portal_id, day);
        CREATE INDEX upload_days_account ON upload_days (storage_account_id, day);
        CREATE TABLE upload_types (
            user_id BIGINT NOT NULL,
            portal_id BIGINT NOT NULL,
            storage_account_id BIGINT NOT NULL,
            extension TEXT NOT NULL,
            files BIGINT NOT NULL CHECK (files >= 0),
            bytes BIGINT NOT NULL CHECK (bytes >= 0),
            PRIMARY KEY (user_id, portal_id, storage_account_id, extension)
        );
        CREATE INDEX upload_types_portal ON upload_types (portal_id);
        CREATE INDEX upload_types_account ON upload_types (storage_account_id);
        CREATE TABLE upload_clients (
            scope TEXT NOT NULL CHECK (scope IN ('user', 'portal', 'account')),
            scope_id BIGINT NOT NULL,
            client TEXT NOT NULL,
            files BIGINT NOT NULL CHECK (files >= 0),
            bytes BIGINT NOT NULL CHECK (bytes >= 0),
            PRIMARY KEY (scope, scope_id, client)
        );
        CREATE INDEX upload_clients_largest ON upload_clients (scope, scope_id, bytes, client);
        -- The recent failed deliveries of one portal or one storage account, newest first (the
        -- owner's come from file_uploads_user_status), without reading its delivered files.
        CREATE INDEX file_uploads_portal_failed ON file_uploads (portal_id, created_at) WHERE status = 'failed';
        CREATE INDEX file_uploads_account_failed ON file_uploads (storage_account_id, created_at) WHERE status = 'failed';
        """

    /// The rows `source` (a table or transition table of file rows, `f`) adds to each rollup,
    /// grouped by its key: (columns, SELECT) per table.
    static func grouped(_ source: String, _ dialect: SQLDialect) -> (days: String, types: String, clients: String) {
        let failed = dialect == .postgresql ? "count(*) FILTER (WHERE f.status = 'failed')" : "sum(f.status = 'failed')"
        let days = """
            SELECT f.user_id, f.portal_id, coalesce(f.storage_account_id, 0) AS storage_account_id, f.created_at / 86400 AS day,
                   count(*) AS uploads, sum(f.size_bytes) AS bytes, \(failed) AS failures
            FROM \(source) f GROUP BY 1, 2, 3, 4
            """
        let types = """
            SELECT f.user_id, f.portal_id, coalesce(f.storage_account_id, 0) AS storage_account_id, \(extensionSQL("f.file_name", dialect)) AS extension,
                   count(*) AS files, sum(f.size_bytes) AS bytes
            FROM \(source) f WHERE f.status = 'uploaded' GROUP BY 1, 2, 3, 4
            """
        let client = clientSQL("f.", dialect)
        let clients = """
            SELECT c.scope, c.scope_id, c.client, count(*) AS files, sum(c.size_bytes) AS bytes FROM (
                SELECT 'user' AS scope, f.user_id AS scope_id, \(client) AS client, f.size_bytes FROM \(source) f WHERE f.status = 'uploaded'
                UNION ALL SELECT 'portal', f.portal_id, \(client), f.size_bytes FROM \(source) f WHERE f.status = 'uploaded'
                UNION ALL SELECT 'account', f.storage_account_id, \(client), f.size_bytes FROM \(source) f
                    WHERE f.status = 'uploaded' AND f.storage_account_id IS NOT NULL
            ) c GROUP BY 1, 2, 3
            """
        return (days, types, clients)
    }

    /// Adds what `source` groups to the rollups (an upsert each).
    static func add(_ source: String, _ dialect: SQLDialect) -> String {
        let g = grouped(source, dialect)
        // SQLite reads `SELECT … ON CONFLICT` as a join's ON without a WHERE before it.
        let end = dialect == .sqlite ? " WHERE true" : ""
        return """
            INSERT INTO upload_days (user_id, portal_id, storage_account_id, day, uploads, bytes, failures)
                SELECT * FROM (\(g.days)) g\(end)
                ON CONFLICT (user_id, day, portal_id, storage_account_id) DO UPDATE SET uploads = upload_days.uploads + excluded.uploads,
                    bytes = upload_days.bytes + excluded.bytes, failures = upload_days.failures + excluded.failures;
            INSERT INTO upload_types (user_id, portal_id, storage_account_id, extension, files, bytes)
                SELECT * FROM (\(g.types)) g\(end)
                ON CONFLICT (user_id, portal_id, storage_account_id, extension) DO UPDATE SET files = upload_types.files + excluded.files,
                    bytes = upload_types.bytes + excluded.bytes;
            INSERT INTO upload_clients (scope, scope_id, client, files, bytes)
                SELECT * FROM (\(g.clients)) g\(end)
                ON CONFLICT (scope, scope_id, client) DO UPDATE SET files = upload_clients.files + excluded.files,
                    bytes = upload_clients.bytes + excluded.bytes;
            """
    }

    /// Takes what `source` groups out of the rollups (updated in place: the rows exist).
    static func subtract(_ source: String, _ dialect: SQLDialect) -> String {
        let g = grouped(source, dialect)
        switch dialect {
        case .postgresql:
            return """
                UPDATE upload_days t SET uploads = t.uploads - d.uploads, bytes = t.bytes - d.bytes, failures = t.failures - d.failures
                    FROM (\(g.days)) d
                    WHERE t.user_id = d.user_id AND t.day = d.day AND t.portal_id = d.portal_id AND t.storage_account_id = d.storage_account_id;
                UPDATE upload_types t SET files = t.files - d.files, bytes = t.bytes - d.bytes FROM (\(g.types)) d
                    WHERE t.user_id = d.user_id AND t.portal_id = d.portal_id AND t.storage_account_id = d.storage_account_id AND t.extension = d.extension;
                UPDATE upload_clients t SET files = t.files - d.files, bytes = t.bytes - d.bytes FROM (\(g.clients)) d
                    WHERE t.scope = d.scope AND t.scope_id = d.scope_id AND t.client = d.client;
                """
        case .sqlite:
            // One row at a time (the row triggers' OLD): each rollup row is named by its key.
            return """
                UPDATE upload_days SET uploads = uploads - 1, bytes = bytes - OLD.size_bytes, failures = failures - (OLD.status = 'failed')
                    WHERE user_id = OLD.user_id AND day = OLD.created_at / 86400 AND portal_id = OLD.portal_id
                      AND storage_account_id = coalesce(OLD.storage_account_id, 0);
                UPDATE upload_types SET files = files - 1, bytes = bytes - OLD.size_bytes
                    WHERE OLD.status = 'uploaded' AND user_id = OLD.user_id AND portal_id = OLD.portal_id
                      AND storage_account_id = coalesce(OLD.storage_account_id, 0) AND extension = \(extensionSQL("OLD.file_name", .sqlite));
                UPDATE upload_clients SET files = files - 1, bytes = bytes - OLD.size_bytes
                    WHERE OLD.status = 'uploaded' AND client = \(clientSQL("OLD.", .sqlite))
                      AND ((scope = 'user' AND scope_id = OLD.user_id) OR (scope = 'portal' AND scope_id = OLD.portal_id)
                           OR (scope = 'account' AND scope_id = OLD.storage_account_id));
                """
        }
    }

    /// The columns a rollup reads: an update that changes none of them changes no rollup.
    static let columns = ["status", "size_bytes", "portal_id", "storage_account_id", "created_at", "file_name", "client_name", "client_email"]

    static var sqlite: String {
        // The row triggers add the one new row through the same grouping as the backfill (a
        // one-row VALUES in place of the table).
        let newRow = "(SELECT NEW.user_id AS user_id, NEW.portal_id AS portal_id, NEW.storage_account_id AS storage_account_id, "
            + "NEW.created_at AS created_at, NEW.size_bytes AS size_bytes, NEW.status AS status, NEW.file_name AS file_name, "
            + "NEW.client_name AS client_name, NEW.client_email AS client_email)"
        let changed = columns.map { "OLD.\($0) IS NOT NEW.\($0)" }.joined(separator: " OR ")
        return tables.replacing("BIGINT", with: "INTEGER") + """

            \(add("file_uploads", .sqlite))
            CREATE TRIGGER file_uploads_analytics_in AFTER INSERT ON file_uploads BEGIN
            \(add(newRow, .sqlite))
            END;
            CREATE TRIGGER file_uploads_analytics_out AFTER DELETE ON file_uploads BEGIN
            \(subtract("", .sqlite))
            END;
            CREATE TRIGGER file_uploads_analytics_again AFTER UPDATE OF \(columns.joined(separator: ", ")) ON file_uploads
            WHEN \(changed) BEGIN
            \(subtract("", .sqlite))
            \(add(newRow, .sqlite))
            END;
            PRAGMA analysis_limit = 1000;
            ANALYZE upload_days;
            ANALYZE upload_types;
            ANALYZE upload_clients;
            """
    }

    static var postgresql: String {
        let changed = "(" + columns.map { "o.\($0)" }.joined(separator: ", ") + ") IS DISTINCT FROM ("
            + columns.map { "n.\($0)" }.joined(separator: ", ") + ")"
        return tables + """

            \(add("file_uploads", .postgresql))
            CREATE FUNCTION file_uploads_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                -- Most updates (delivery leases, attempts) change nothing a rollup reads.
                IF TG_OP = 'UPDATE' THEN
                    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE \(changed)) THEN
                        RETURN NULL;
                    END IF;
                END IF;
                IF TG_OP IN ('DELETE', 'UPDATE') THEN
                    \(subtract("old_rows", .postgresql))
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    \(add("new_rows", .postgresql))
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER file_uploads_analytics_in AFTER INSERT ON file_uploads REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION file_uploads_analytics();
            CREATE TRIGGER file_uploads_analytics_out AFTER DELETE ON file_uploads REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION file_uploads_analytics();
            CREATE TRIGGER file_uploads_analytics_again AFTER UPDATE ON file_uploads REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION file_uploads_analytics();
            ANALYZE upload_days;
            ANALYZE upload_types;
            ANALYZE upload_clients;
            """
    }

    static let sqliteMigration = Migration(version, name, sqlite)
    static let postgresqlMigration = Migration(version, name, postgresql)
}
