import ArgumentParser
import Database
import Foundation
import Intake

/// `intake backup`: a consistent copy of the SQLite database, taken while `intake serve` keeps
/// serving and writing (SQLite's online backup API, see `SQLiteDatabase.backup(to:replacing:)`).
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database, consistently, while Intake keeps running.",
        discussion: """
            The backup is one SQLite file of mode 0600, written beside FILE and renamed to FILE once complete. \
            It holds the OAuth tokens sealed with the secret key, but not the key: back the key up separately, \
            never in the same file. Files on local-disk storage (INTAKE_STORAGE_DIR) are not in it either.
            Exit status: 0 done, 2 no database or the file could not be written (not writable, disk full), \
            64 bad arguments: FILE exists (give --force to replace it) or its folder does not.
            """)

    @Option(name: .customLong("to"), help: ArgumentHelp("The backup file to write.", valueName: "file")) var file: String
    @Flag(help: "Replace the file if it exists.") var force = false

    func run() throws {
        let config = Startup.configuration()
        let path = Self.sqlitePath(config, tool: "pg_dump")
        guard FileManager.default.fileExists(atPath: path) else {
            Startup.fail("no database at \(path); nothing to back up", code: OperatorExit.problem)
        }
        let started = ContinuousClock.now
        let version: Int?, copy: SQLiteDatabase.BackupCopy
        do {
            let db = try SQLiteDatabase(path: path)
            // The version read in the snapshot the backup copies.
            (version, copy) = try db.read { (try Schema.migrator.recordedVersions(db)?.max(), try db.backup(to: file, replacing: force)) }
        } catch let error as DatabaseFileError {
            Startup.fail("cannot back up: \(error)", code: OperatorExit.code(for: error))
        } catch {
            Startup.fail("cannot back up \(path): \(error)", code: OperatorExit.problem)
        }
        let seconds = started.duration(to: .now).components
        let elapsed = Double(seconds.seconds) + Double(seconds.attoseconds) / 1e18
        print("backed up \(path) to \(file)")
        print("  \(ByteSize(bytes: copy.bytes)) (\(copy.bytes) bytes, \(copy.pages) pages), schema version \(version.map(String.init) ?? "none"), "
              + "in \(String(format: "%.2f", elapsed)) s")
        print("  \(Self.secretKeyNote(config.secretKeySource))")
    }

    /// The SQLite database's file; a configuration on PostgreSQL (INTAKE_DATABASE_URL) stops
    /// here, naming PostgreSQL's own `tool`.
    static func sqlitePath(_ config: Configuration, tool: String) -> String {
        guard case .sqlite(let path) = config.database else {
            Startup.fail("this copies a SQLite database, and INTAKE_DATABASE_URL names PostgreSQL: use \(tool) there", code: OperatorExit.problem)
        }
        return path
    }

    /// Where the secret key is, and that it is never in a backup.
    static func secretKeyNote(_ source: Configuration.SecretKeySource) -> String {
        "The secret key (\(keyLocation(source))) is not in the backup and must never be put in the same file: back it up separately. "
            + "Without it the stored OAuth tokens cannot be read."
    }

    /// Where this configuration's secret key comes from.
    static func keyLocation(_ source: Configuration.SecretKeySource) -> String {
        switch source {
        case .value: return "INTAKE_SECRET_KEY, set in the environment"
        case .file(let path): return "INTAKE_SECRET_KEY_FILE, \(path)"
        case .generatedFile(let path): return path
        }
    }
}
