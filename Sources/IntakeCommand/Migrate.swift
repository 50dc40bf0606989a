import ArgumentParser
import Database
import Intake

/// `intake migrate`: apply pending schema migrations.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    func run() throws {
        let config = Startup.configuration()
        do {
            try Startup.ensureHome(config)
            let db = try config.database.open()
            let applied = try Schema.migrator.migrate(db, now: Startup.now())
            print(applied.isEmpty ? "database is up to date (\(config.database))"
                                  : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
        } catch {
            Startup.fail("migration failed: \(error)")
        }
    }
}
