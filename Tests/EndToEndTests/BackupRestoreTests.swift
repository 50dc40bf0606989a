import Database
import Foundation
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `intake backup` and `intake restore` as an operator runs them: the real binary against a
/// running server's database while clients upload, then the backup restored into a new home
/// and served again.
@Suite("Backup and restore: intake backup while uploads run, intake restore into a new home", .serialized,
       .enabled(if: integrationEnabled && !TestDatabases.onPostgreSQL, "set INTAKE_INTEGRATION=1 (scripts/test does); SQLite's (PostgreSQL has pg_dump)"))
struct BackupRestoreTests {
    /// What the schema's triggers keep must agree with the rows they count, in one snapshot:
    /// each owner's usage with their files, each storage account's and each portal's uploaded
    /// files and bytes, the site's totals by status. Returns what disagrees.
    static func counterDisagreements(_ db: any Database) throws -> [String] {
        let checks = [
            ("users.storage_used_bytes", """
                SELECT id FROM users u WHERE storage_used_bytes <> (SELECT coalesce(sum(size_bytes), 0) FROM file_uploads f WHERE f.user_id = u.id)
                """),
            ("storage_accounts.uploaded_files/bytes", """
                SELECT id FROM storage_accounts s
                WHERE uploaded_files <> (SELECT count(*) FROM file_uploads f WHERE f.storage_account_id = s.id AND f.status = 'uploaded')
                   OR uploaded_bytes <> (SELECT coalesce(sum(size_bytes), 0) FROM file_uploads f WHERE f.storage_account_id = s.id AND f.status = 'uploaded')
                """),
            ("portals.uploaded_files", """
                SELECT id FROM portals p WHERE uploaded_files <> (SELECT count(*) FROM file_uploads f WHERE f.portal_id = p.id AND f.status = 'uploaded')
                """),
            ("file_totals", """
                SELECT t.status FROM file_totals t LEFT JOIN (SELECT status, count(*) AS n, sum(size_bytes) AS b FROM file_uploads GROUP BY status) f ON f.status = t.status
                WHERE t.files <> coalesce(f.n, 0) OR t.bytes <> coalesce(f.b, 0)
                """),
        ]
        return try checks.flatMap { name, sql in try db.query(sql).map { "\(name): \($0.values)" } }
    }

    /// The file ids an owner's session lists through the API, page after page.
    static func listedFileIDs(_ owner: WebSession) throws -> Set<Int64> {
        var ids = Set<Int64>()
        var cursor: String?
        repeat {
            let answer = try owner.get("/api/v1/uploads?limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any], "\(answer.text)")
            let uploads = try #require(object["uploads"] as? [[String: Any]])
            ids.formUnion(uploads.compactMap { ($0["id"] as? String).flatMap(Int64.init) })
            cursor = object["nextCursor"] as? String
        } while cursor != nil
        return ids
    }

    /// The slugs of an owner's portals, through the API.
    static func portalSlugs(_ owner: WebSession) throws -> [String] {
        let answer = try owner.get("/api/portals")
        let portals = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [[String: Any]], "\(answer.text)")
        return portals.compactMap { $0["slug"] as? String }.sorted()
    }

    static func signIn(_ server: IntakeTestServer, password: String) throws -> WebSession {
        let owner = server.session()
        _ = try owner.get("/login")
        let answer = try owner.post("/login", form: [("email", "owner@example.com"), ("password", password)])
        #expect(answer.status == 303, "signed in: \(answer.status)")
        _ = try owner.get("/dashboard")
        return owner
    }

    @Test("a backup taken while 32 clients upload through the running server holds every upload answered before it began, passes the integrity check and keeps the counters in step with the files; restored into a new INTAKE_HOME with the secret key, the owner signs in and finds the same portals and files")
    func backupUnderLoadThenRestore() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let password = try #require(try String(contentsOfFile: site.server.home + "/demo-credentials.txt", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("user") }?.split(separator: " ").last.map(String.init))
        try withTemporaryDirectory("intake-backups") { backups in
            let backup = backups + "/intake-backup.db"
            let answered = Mutex<[(id: Int64, at: Date)]>([])
            let failures = Mutex<[String]>([])
            let backupRun = Mutex<(started: Date, finished: Date, outcome: IntakeTestServer.Outcome)?>(nil)
            let backupDone = Atomic<Bool>(false)
            onThreads(33) { client in
                if client == 32 {
                    // The operator, once the uploads are under way.
                    while answered.withLock({ $0.count }) < 16 { usleep(2_000) }
                    let started = Date()
                    let outcome = try? site.server.intake(["backup", "--to", backup])
                    backupRun.withLock { $0 = outcome.map { (started, Date(), $0) } }
                    backupDone.store(true, ordering: .releasing)
                    return
                }
                var rng = SystemRandomNumberGenerator()
                // Two rounds at least, and on until the backup is done (24 at most).
                for round in 0..<24 {
                    if round >= 2 && backupDone.load(ordering: .acquiring) { break }
                    let bytes = Array("%PDF-1.7\n% client \(client) round \(round)\n".utf8) + (0..<(32 * 1024 + client * 512)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    do {
                        let answer = try site.upload([("report-\(client)-\(round).pdf", bytes)])
                        guard answer.status == 200, let id = DemoSite.string("uploadId", in: answer.text).flatMap(Int64.init) else {
                            failures.withLock { $0.append("\(answer.status) \(answer.text.prefix(200))") }
                            continue
                        }
                        answered.withLock { $0.append((id, Date())) }
                    } catch { failures.withLock { $0.append("\(error)") } }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "no upload failed while the backup ran: \(failures.withLock { $0 }.prefix(3))")
            let run = try #require(backupRun.withLock { $0 }, "intake backup ran")
            #expect(run.outcome.status == 0, "\(run.outcome.output) \(run.outcome.errors)")
            #expect(run.outcome.output.contains("backed up \(site.server.home)/intake.db to \(backup)"), "\(run.outcome.output)")
            #expect(run.outcome.output.contains("schema version") && run.outcome.output.contains("is not in the backup and must never be put in the same file"),
                    "\(run.outcome.output)")
            let uploads = answered.withLock { $0 }
            #expect(uploads.count >= 64)
            let before = Set(uploads.filter { $0.at < run.started }.map(\.id))
            #expect(uploads.contains { $0.at > run.finished }, "uploads went on after the backup finished, so it ran among them")
            #expect(try (FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int) == 0o600)

            // Inspected on a copy: opening a database file switches it to WAL mode, and the backup is restored below as it was written.
            let inspected = backups + "/inspected.db"
            try FileManager.default.copyItem(atPath: backup, toPath: inspected)
            var backedUp = Set<Int64>()
            do {
                let copy = try SQLiteDatabase(path: inspected)
                #expect(try copy.scalar("PRAGMA integrity_check", as: String.self) == "ok")
                #expect(try copy.query("PRAGMA foreign_key_check").isEmpty)
                let disagreements = try Self.counterDisagreements(copy)
                #expect(disagreements.isEmpty, "\(disagreements)")
                backedUp = Set(try copy.query("SELECT id FROM file_uploads").map { try $0.get("id", as: Int64.self) })
                #expect(before.isSubset(of: backedUp), "every upload answered before the backup began is in it: missing \(before.subtracting(backedUp))")
                #expect(backedUp.count < uploads.count, "taken among the uploads, not after them")
                let unfinished = try copy.scalar("SELECT count(*) FROM file_uploads WHERE status = 'uploaded' AND (sha256 IS NULL OR provider_file_id IS NULL)", as: Int.self)
                #expect(unfinished == 0, "a delivered file's row is whole")
            }
            #expect(try Self.counterDisagreements(site.db).isEmpty, "and the live database, after the load")

            // A new home: the secret key is restored from where it is kept apart, then the backup.
            let key = backups + "/secret.key"
            try FileManager.default.copyItem(atPath: site.server.home + "/secret.key", toPath: key)
            let restored = try IntakeTestServer(extraEnvironment: ["INTAKE_SECRET_KEY_FILE": key]) { environment in
                let outcome = try IntakeTestServer.outcome(IntakeTestServer.binary, ["restore", "--from", backup], environment: environment)
                #expect(outcome.status == 0, "\(outcome.output) \(outcome.errors)")
                #expect(outcome.output.contains("restored \(backup) into \(environment["INTAKE_HOME"]!)/intake.db"), "\(outcome.output)")
                #expect(outcome.output.contains("up to date, no migration needed"), "\(outcome.output)")
                #expect(!outcome.output.contains("kept as"), "nothing was there to keep")
            }
            defer { restored.stop() }
            let owner = try Self.signIn(restored, password: password)
            #expect(try Self.portalSlugs(owner) == Self.portalSlugs(site.owner))
            #expect(try Self.portalSlugs(owner).contains("demo"))
            #expect(try Self.listedFileIDs(owner) == backedUp, "the owner's files are the backup's")
            #expect(try Self.listedFileIDs(site.owner).isSuperset(of: backedUp))
        }
    }

    @Test("backup refuses an existing file without --force (exit 64) and replaces it with; a missing folder is exit 64; restore is refused while the server runs, also when its jobs lease names a dead process (its processes have the database open), and done once it stops")
    func refusals() throws {
        let server = try IntakeTestServer(workers: 1, threads: 2)
        defer { server.stop() }
        try withTemporaryDirectory("intake-backups") { backups in
            let backup = backups + "/intake.db"
            #expect(try server.intake(["backup", "--to", backup]).status == 0)
            let again = try server.intake(["backup", "--to", backup])
            #expect(again.status == 64 && again.errors.contains("\(backup): already exists"), "\(again.errors)")
            let forced = try server.intake(["backup", "--to", backup, "--force"])
            #expect(forced.status == 0, "\(forced.errors)")
            let noFolder = try server.intake(["backup", "--to", backups + "/nowhere/intake.db"])
            #expect(noFolder.status == 64 && noFolder.errors.contains("\(backups)/nowhere: no such folder"), "\(noFolder.errors)")

            let home = try FileManager.default.contentsOfDirectory(atPath: server.home).sorted()
            let running = try server.intake(["restore", "--from", backup])
            #expect(running.status == 2, "\(running.output) \(running.errors)")
            #expect(running.errors.contains("Intake is running on \(server.home)/intake.db (the process") && running.errors.contains(":\(server.servePID):"),
                    "\(running.errors)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: server.home).sorted() == home, "nothing replaced or kept")

            // The jobs lease names a process that is gone (as after a supervisor killed with
            // SIGKILL whose workers live on): the server's processes still have the database open.
            do {
                let db = try SQLiteDatabase(path: server.home + "/intake.db")
                try db.execute("UPDATE job_leases SET holder = $1", ["\(OperatorToolsTests.hostName):\(try OperatorToolsTests.deadPID()):gone"])
            }
            let open = try server.intake(["restore", "--from", backup])
            #expect(open.status == 2, "\(open.output) \(open.errors)")
            #expect(open.errors.contains("\(server.home)/intake.db: is open in another process"), "\(open.errors)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: server.home).sorted() == home, "nothing replaced or kept")

            // Stopped, it restores.
            server.signalServe(SIGTERM)
            #expect(server.waitForServeExit(timeout: 20) == 0)
            let stopped = try server.intake(["restore", "--from", backup])
            #expect(stopped.status == 0, "\(stopped.output) \(stopped.errors)")
            #expect(stopped.output.contains("the database it replaced is kept as \(server.home)/intake.db.before-restore-"), "\(stopped.output)")
        }
    }

    @Test("on PostgreSQL (INTAKE_DATABASE_URL) backup and restore refuse at once and name pg_dump and pg_restore (exit 2)")
    func postgreSQL() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["INTAKE_DATABASE_URL"] = "postgres://intake@127.0.0.1:1/none"
        try withTemporaryDirectory("intake-restore") { folder in
            environment["INTAKE_HOME"] = folder
            for (arguments, tool) in [(["backup", "--to", folder + "/b.db"], "pg_dump"), (["restore", "--from", folder + "/b.db"], "pg_restore")] {
                let refused = try IntakeTestServer.outcome(IntakeTestServer.binary, arguments, environment: environment)
                #expect(refused.status == 2 && refused.errors.contains("INTAKE_DATABASE_URL names PostgreSQL: use \(tool) there"), "\(refused.errors)")
            }
        }
    }

    @Test("restore refuses a file that is not a database (64), an SQLite file that is not Intake's (64), and a backup from a newer schema (2), into a new home as into a used one")
    func restoreRefusesWrongFiles() throws {
        try withTemporaryDirectory("intake-restore") { folder in
            var environment = ProcessInfo.processInfo.environment
            environment["INTAKE_HOME"] = folder + "/home"
            func intake(_ arguments: [String]) throws -> IntakeTestServer.Outcome {
                try IntakeTestServer.outcome(IntakeTestServer.binary, arguments, environment: environment)
            }
            #expect(try intake(["migrate"]).status == 0)
            let backup = folder + "/intake.db"
            #expect(try intake(["backup", "--to", backup]).status == 0)

            let text = folder + "/notes.txt"
            try Data(String(repeating: "these are notes, not a database\n", count: 64).utf8).write(to: URL(fileURLWithPath: text))
            let other = folder + "/other.db"
            do { try SQLiteDatabase(path: other).execute("CREATE TABLE things (id INTEGER PRIMARY KEY)") }
            let newer = folder + "/newer.db"
            try FileManager.default.copyItem(atPath: backup, toPath: newer)
            do {
                try SQLiteDatabase(path: newer).execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from the future', 'x')")
            }
            let cases: [(file: String, status: Int32, says: String)] = [
                (text, 64, "\(text): is not a SQLite database"),
                (other, 64, "\(other): is a SQLite database but not Intake's"),
                (newer, 2, "\(newer) was migrated by a newer Intake: it records migration(s) 9999"),
                (folder + "/missing.db", 64, "no backup file at \(folder)/missing.db"),
            ]
            let homes = [("a used home", folder + "/home"), ("a new home", folder + "/new-home")]
            for (what, home) in homes {
                environment["INTAKE_HOME"] = home
                let before = (try? FileManager.default.contentsOfDirectory(atPath: home).sorted()) ?? []
                for (file, status, says) in cases {
                    let refused = try intake(["restore", "--from", file])
                    #expect(refused.status == status && refused.errors.contains(says), "\(what), \(file): \(refused.status) \(refused.errors)")
                }
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: home).sorted()) ?? []) == before, "\(what): nothing changed")
            }
            // The same backup restores into the used home, keeping the database it replaces.
            environment["INTAKE_HOME"] = folder + "/home"
            let done = try intake(["restore", "--from", backup])
            #expect(done.status == 0, "\(done.errors)")
            let kept = try FileManager.default.contentsOfDirectory(atPath: folder + "/home").filter { $0.hasPrefix("intake.db.before-restore-") }
            #expect(kept.count == 1 && done.output.contains("kept as \(folder)/home/\(kept.first ?? "")"), "\(done.output)")
        }
    }
}
