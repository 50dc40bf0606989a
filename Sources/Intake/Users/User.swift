import Database

/// What a person may do: run the service, or own portals.
public enum Role: String, Sendable, CaseIterable {
    case admin
    case user
}

/// A person who signs in.
public struct User: Sendable, Equatable {
    public let id: Int64
    public var email: String
    public var name: String
    public var role: Role
    public var disabled: Bool
    public let createdAt: Int64
    public var updatedAt: Int64

    init(row: Row) throws {
        id = try row.get("id")
        email = try row.get("email")
        name = try row.get("name")
        let roleText: String = try row.get("role")
        guard let role = Role(rawValue: roleText) else { throw DatabaseError(.decoding, "unknown role '\(roleText)'") }
        self.role = role
        disabled = try row.get("disabled")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    static let columns = "id, email, name, role, disabled, created_at, updated_at"
}

/// Rules for what users type.
public enum UserRules {
    /// The shortest password accepted.
    public static let minimumPasswordLength = 12

    /// Trims and checks an e-mail address enough to catch typing mistakes (one `@`, a dot in the
    /// domain, no spaces); deliverability is not something a regular expression can decide.
    public static func email(_ raw: String) throws -> String {
        let email = raw.trimmingSpaces()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !email.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ValidationError("email", "Enter an e-mail address like name@example.com.")
        }
        return email
    }

    /// The name shown in the interface: 1 to 100 characters after trimming.
    public static func name(_ raw: String) throws -> String {
        let name = raw.trimmingSpaces()
        guard !name.isEmpty else { throw ValidationError("name", "Enter a name.") }
        guard name.count <= 100 else { throw ValidationError("name", "Use at most 100 characters.") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError("name", "The name contains control characters.")
        }
        return name
    }

    /// A new password: long enough, and not absurdly long (argon2 hashes it whole).
    public static func password(_ raw: String, field: String = "password") throws -> String {
        guard raw.count >= minimumPasswordLength else {
            throw ValidationError(field, "Use at least \(minimumPasswordLength) characters.")
        }
        guard raw.utf8.count <= 1024 else { throw ValidationError(field, "Use at most 1024 bytes.") }
        return raw
    }
}
