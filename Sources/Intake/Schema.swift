import Database

/// Intake's database schema as numbered migrations. Later issues append; nothing released is
/// edited.
public enum Schema {
    /// Every migration, in order.
    public static let migrations: [Migration] = []

    /// The migrator over `migrations`.
    public static var migrator: Migrator { Migrator(migrations) }
}

/// Intake's version, reported by `/healthz` and `intake --version`.
public enum IntakeVersion {
    public static let current = "0.1.0"
}
