import Database

/// Migration 38: the number of users over their quota, kept by triggers in the transaction of
/// every change to a user's usage or quota, so the quotas page's "over quota" filter reads its
/// total from one row instead of counting up to 10,001 matches (a sequential scan on
/// PostgreSQL: the filter's p99 was twice the target at 100,000 users). A user is over when
/// `storage_used_bytes - quota_bytes > 0`, the filter's own condition.
enum OverQuotaCountSchema {
    static let version = 38
    static let name = "users over quota counted"

    /// Whether the row is over its quota; `row` is `NEW.`, `OLD.` or nothing.
    static func over(_ row: String = "") -> String { "\(row)storage_used_bytes - \(row)quota_bytes > 0" }

    static let table = """
        CREATE TABLE user_counts (
            name TEXT PRIMARY KEY CHECK (name IN ('over_quota')),
            n BIGINT NOT NULL
        );
        INSERT INTO user_counts (name, n) SELECT 'over_quota', count(*) FROM users WHERE \(over());
        """

    static let sqlite = table.replacing("BIGINT", with: "INTEGER") + """

        CREATE TRIGGER users_over_counted_in AFTER INSERT ON users WHEN \(over("NEW.")) BEGIN
            UPDATE user_counts SET n = n + 1 WHERE name = 'over_quota';
        END;
        CREATE TRIGGER users_over_counted_out AFTER DELETE ON users WHEN \(over("OLD.")) BEGIN
            UPDATE user_counts SET n = n - 1 WHERE name = 'over_quota';
        END;
        CREATE TRIGGER users_over_counted_again AFTER UPDATE OF storage_used_bytes, quota_bytes ON users
        WHEN (\(over("OLD."))) <> (\(over("NEW."))) BEGIN
            UPDATE user_counts SET n = n + (CASE WHEN \(over("NEW.")) THEN 1 ELSE -1 END) WHERE name = 'over_quota';
        END;
        """

    /// Statement-level, over the changed rows (as the other counts on PostgreSQL): one update of
    /// the count per statement, and none when no row crossed its quota.
    static let postgresql = table + """

        CREATE FUNCTION users_over_counted() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            d BIGINT := 0;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                d := d + (SELECT count(*) FROM new_rows WHERE \(over()));
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                d := d - (SELECT count(*) FROM old_rows WHERE \(over()));
            END IF;
            IF d <> 0 THEN
                UPDATE user_counts SET n = n + d WHERE name = 'over_quota';
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER users_over_counted_in AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION users_over_counted();
        CREATE TRIGGER users_over_counted_out AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION users_over_counted();
        CREATE TRIGGER users_over_counted_again AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION users_over_counted();
        """

    static let migrations = (sqlite: Migration(version, name, sqlite), postgresql: Migration(version, name, postgresql))
}
