import Database
import Sodium

/// Users in the database: create, find, update, and the admin list.
public struct UserStore {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// Creates a user; a taken e-mail (compared case-insensitively) is a validation error.
    @discardableResult
    public func create(email rawEmail: String, name rawName: String, password rawPassword: String, role: Role) throws -> User {
        let email = try UserRules.email(rawEmail)
        let name = try UserRules.name(rawName)
        let password = try UserRules.password(rawPassword)
        let hash = try PasswordHash.hash(password)
        let now = clock.now()
        do {
            let row = try db.queryOne("""
                INSERT INTO users (email, email_normalized, name, password_hash, role, disabled, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING \(User.columns)
                """, [email, email.lowercased(), name, hash, role.rawValue, now])
            return try User(row: row!)
        } catch let error as DatabaseError where error.kind == .constraint {
            throw ValidationError("email", "A user with this e-mail address already exists.")
        }
    }

    public func find(id: Int64) throws -> User? {
        try db.queryOne("SELECT \(User.columns) FROM users WHERE id = $1", [id]).map(User.init)
    }

    /// The tariff plan the user is on, if any.
    public func planID(userID: Int64) throws -> Int64? {
        try db.scalar("SELECT plan_id FROM users WHERE id = $1", [userID], as: Int64?.self) ?? nil
    }

    /// The user with this e-mail (any case) and their password hash.
    public func findForSignIn(email: String) throws -> (user: User, passwordHash: String)? {
        guard let row = try db.queryOne("SELECT \(User.columns), password_hash FROM users WHERE email_normalized = $1",
                                        [email.trimmingSpaces().lowercased()]) else { return nil }
        return (try User(row: row), try row.get("password_hash"))
    }

    public func updateName(id: Int64, to rawName: String) throws {
        let name = try UserRules.name(rawName)
        try db.execute("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3", [name, clock.now(), id])
    }

    /// Stores a new password hash (the caller revokes sessions as the situation needs).
    public func setPassword(id: Int64, to rawPassword: String, field: String = "password") throws {
        let password = try UserRules.password(rawPassword, field: field)
        let hash = try PasswordHash.hash(password)
        try db.execute("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", [hash, clock.now(), id])
    }

    /// Replaces a hash made with older parameters, after a successful sign-in.
    func rehash(id: Int64, password: String) throws {
        try db.execute("UPDATE users SET password_hash = $1 WHERE id = $2", [try PasswordHash.hash(password), id])
    }

    /// How many users there are, and of those how many are admins and how many disabled (kept
    /// by the schema's triggers, so the overview does not count the users).
    public func counts() throws -> (total: Int, admins: Int, disabled: Int) {
        var n: [String: Int] = [:]
        for row in try db.query("SELECT name, n FROM site_counts WHERE name IN ('users', 'admins', 'disabled')") { n[try row.get("name")] = try row.get("n") }
        return (n["users"] ?? 0, n["admins"] ?? 0, n["disabled"] ?? 0)
    }

    /// One page of users, ordered by id, optionally filtered by a prefix of the e-mail or name.
    /// Pages are found by id (keyset), so the thousandth page costs what the first does.
    public func page(search: String, after: Int64?, before: Int64?, limit: Int) throws -> UserPage {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        let query = search.trimmingSpaces()
        if !query.isEmpty {
            conditions.append(PrefixSearch.condition(["email_normalized", "name"], startWith: query, db.dialect, &arguments))
        }
        let backwards = before != nil && after == nil
        if let after {
            arguments.append(after)
            conditions.append("id > $\(arguments.count)")
        } else if let before {
            arguments.append(before)
            conditions.append("id < $\(arguments.count)")
        }
        arguments.append(limit + 1)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        var users = try db.query("""
            SELECT \(User.columns) FROM users \(whereClause)
            ORDER BY id \(backwards ? "DESC" : "ASC") LIMIT $\(arguments.count)
            """, arguments).map(User.init)
        let more = users.count > limit
        if more { users.removeLast() }
        if backwards { users.reverse() }
        return UserPage(users: users,
                        hasPrevious: backwards ? more : after != nil,
                        hasNext: backwards ? true : more)
    }
}

/// A page of the admin user list.
public struct UserPage: Sendable {
    public let users: [User]
    public let hasPrevious: Bool
    public let hasNext: Bool
}
