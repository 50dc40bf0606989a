import ArgumentParser
import Foundation
import Intake

/// `intake demo-seed`: on an empty database, a demo admin and a demo user, so a newcomer can sign
/// in at once. Their credentials come from INTAKE_DEMO_* or are generated, kept in
/// `$INTAKE_HOME/demo-credentials.txt` (mode 0600) and printed on every start.
struct DemoSeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-seed", abstract: "Create a demo admin and a demo user on an empty database and print their credentials.")

    func run() throws {
        let config = Startup.configuration()
        let env = ProcessInfo.processInfo.environment
        let (db, clock) = try AccountTools.open()
        let file = config.home + "/demo-credentials.txt"
        let users = UserStore(db: db, clock: clock)
        if try users.counts().total == 0 {
            let adminEmail = env["INTAKE_DEMO_ADMIN_EMAIL"] ?? "admin@example.com"
            let adminPassword = env["INTAKE_DEMO_ADMIN_PASSWORD"] ?? AccountTools.generate()
            let userEmail = env["INTAKE_DEMO_USER_EMAIL"] ?? "owner@example.com"
            let userPassword = env["INTAKE_DEMO_USER_PASSWORD"] ?? AccountTools.generate()
            do {
                try users.create(email: adminEmail, name: "Demo Admin", password: adminPassword, role: .admin)
                let owner = try users.create(email: userEmail, name: "Demo Owner", password: userPassword, role: .user)
                // Local-disk storage and a portal at /p/demo, so a newcomer can upload at once.
                let actor = AuditLog.Actor(userID: nil, remoteAddress: "demo-seed")
                let account = try StorageAccountStore(db: db, clock: clock).createOrGet(
                    userID: owner.id, provider: .local, providerAccountID: "local", email: nil, displayName: "Local disk", by: actor).account
                var portal = PortalInput(name: "Demo uploads", slug: "demo")
                portal.description = "Send files to the demo owner. They are stored on this machine's disk."
                portal.storageAccountID = account.id
                portal.clientEmailMode = .optional
                if case .failure(let errors) = try PortalStore(db: db, clock: clock).create(portal, userID: owner.id, by: actor) {
                    Startup.fail("demo portal: \(errors.messages)", code: 2)
                }
            } catch let error as Intake.ValidationError {
                Startup.fail("demo account: \(error)", code: 2)
            }
            let text = "admin  \(adminEmail)  \(adminPassword)\nuser   \(userEmail)  \(userPassword)\n"
            _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        }
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            print("Demo upload portal: \(config.baseURL)/p/demo")
            print("Demo accounts (role, e-mail, password):")
            print(text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        } else {
            print("Accounts exist already; `intake admin reset-password --email E` sets a new password.")
        }
    }
}
