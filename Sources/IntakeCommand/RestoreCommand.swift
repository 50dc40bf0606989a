import ArgumentParser
import Database
import Foundation
import Intake

/// `intake restore`: puts a backup in place of the database, keeping the current one, and
/// migrates it (see `SQLiteDatabase.restore(_:from:keepingCurrentAs:check:)`).
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the database with a backup (Intake must be stopped), then migrate it.",
        discussion: """
            FILE must be an Intake database that passes SQLite's integrity check and was not migrated by a newer \
            Intake. Refused while Intake runs on this database: while a live process holds its jobs lease (as \
            `intake serve` does), or while any process has it open. The current database is kept as \
            intake.db.before-restore-<time>; the backup is copied beside it and renamed into place. \
            Its OAuth tokens need the secret key they were sealed with: restore that key separately.
            Exit status: 0 done, 2 refused (Intake running, a damaged or newer backup) or failed, \
            64 bad arguments: FILE missing or not an Intake database.
            """)

    @Option(name: .customLong("from"), help: ArgumentHelp("The backup file to restore.", valueName: "file")) var file: String

    /// A backup that a newer Intake migrated.
    struct NewerSchema: Error, CustomStringConvertible {
        let file: String
        let unknown: [Int]
        let known: Int
        var description: String {
            "\(file) was migrated by a newer Intake: it records migration(s) \(unknown.map(String.init).joined(separator: ", ")), "
                + "and this intake knows migrations up to \(known); restore it with that Intake"
        }
    }

    func run() throws {
        let config = Startup.configuration()
        let path = BackupCommand.sqlitePath(config, tool: "pg_restore")
        try Startup.ensureHome(config)
        guard FileManager.default.fileExists(atPath: file) else { Startup.fail("no backup file at \(file)", code: OperatorExit.usage) }
        if FileManager.default.fileExists(atPath: path), let runner = Self.jobsRunner(path) {
            Startup.fail("Intake is running on \(path) (the process \(runner) runs its jobs); stop `intake serve` first", code: OperatorExit.problem)
        }
        let kept = path + ".before-restore-" + Self.stamp(Date())
        var restoredVersion = 0
        let restored: SQLiteDatabase.RestoredCopy
        do {
            restored = try SQLiteDatabase.restore(path, from: file, keepingCurrentAs: kept) { copy in
                guard let versions = try Schema.migrator.recordedVersions(copy) else {
                    throw DatabaseFileError(.notADatabase, file, "is a SQLite database but not Intake's (it has no schema_migrations)")
                }
                let unknown = Schema.migrator.unknownVersions(versions, in: copy)
                guard unknown.isEmpty else { throw NewerSchema(file: file, unknown: unknown, known: Schema.migrator.migrations.last?.version ?? 0) }
                restoredVersion = versions.max() ?? 0
            }
        } catch let error as DatabaseFileError {
            let why = error.reason == .inUse ? "\(error); stop `intake serve` and any other intake command first" : "\(error)"
            Startup.fail("cannot restore: \(why)", code: OperatorExit.code(for: error))
        } catch {
            Startup.fail("cannot restore: \(error)", code: OperatorExit.problem)
        }
        print("restored \(file) into \(path): \(ByteSize(bytes: restored.bytes)), schema version \(restoredVersion)")
        if restored.keptCurrent { print("  the database it replaced is kept as \(kept)") }
        do {
            let applied = try Schema.migrator.migrate(try SQLiteDatabase(path: path), now: Startup.now())
            print(applied.isEmpty ? "  up to date, no migration needed" : "  migrated: applied \(applied.map(String.init).joined(separator: ", "))")
        } catch {
            Startup.fail("the backup is in place, but migrating it failed: \(error)", code: OperatorExit.problem)
        }
        print("  Its OAuth tokens can be read only with the secret key of the Intake it was taken from: "
              + "\(BackupCommand.keyLocation(config.secretKeySource)) must hold that key (restore it from where it is kept, apart from the backups).")
    }

    /// The process running the jobs of the database at `path` (`host:pid:token`), which the
    /// `intake serve` using it does while it runs; nil when none is alive. A database this cannot
    /// read stops the restore: the operator moves it away by hand first.
    static func jobsRunner(_ path: String) -> String? {
        do {
            let db = try SQLiteDatabase(path: path)
            guard let versions = try Schema.migrator.recordedVersions(db), !versions.isEmpty else { return nil }
            return try Jobs.runner(db: db, clock: SystemClock())
        } catch {
            Startup.fail("cannot read the current database \(path) (\(error)); move it away, then restore", code: OperatorExit.problem)
        }
    }

    /// A file-name-safe UTC time: 20250131T120000Z.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
