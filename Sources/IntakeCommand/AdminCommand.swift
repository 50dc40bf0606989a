import ArgumentParser
import Database
import Foundation
import Intake
import Sodium

/// `intake admin create` and `intake admin reset-password`.
struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage accounts from the command line.",
        subcommands: [Create.self, ResetPassword.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account. The password is read from standard input when it is not a terminal; otherwise one is generated and printed once.")

        @Option(help: "E-mail address (sign-in name).") var email: String
        @Option(help: "Name shown in the interface.") var name: String
        @Option(help: "admin or user.") var role: String = "admin"

        func run() throws {
            guard let role = Role(rawValue: role) else { Startup.fail("--role must be admin or user", code: 2) }
            let (db, clock) = try AccountTools.open()
            let (password, generated) = AccountTools.password()
            do {
                let user = try UserStore(db: db, clock: clock).create(email: email, name: name, password: password, role: role)
                print("created \(role.rawValue) \(user.email) (id \(user.id))")
                if generated { print("password: \(password)") }
            } catch let error as Intake.ValidationError {
                Startup.fail(error.message, code: 2)
            }
        }
    }

    struct ResetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (from standard input, or generated and printed) and sign the account out everywhere.")

        @Option(help: "E-mail address of the account.") var email: String

        func run() throws {
            let (db, clock) = try AccountTools.open()
            let users = UserStore(db: db, clock: clock)
            guard let found = try users.findForSignIn(email: email) else { Startup.fail("no account with the e-mail \(email)", code: 2) }
            let (password, generated) = AccountTools.password()
            do {
                try users.setPassword(id: found.user.id, to: password)
            } catch let error as Intake.ValidationError {
                Startup.fail(error.message, code: 2)
            }
            try SessionStore(db: db, clock: clock).revokeAll(userID: found.user.id)
            print("password reset for \(found.user.email); every session was signed out")
            if generated { print("password: \(password)") }
        }
    }
}

/// Shared by the account commands.
enum AccountTools {
    static func open() throws -> (Database, EpochClock) {
        let config = Startup.configuration()
        try Startup.ensureHome(config)
        let db = try config.database.open()
        try Schema.migrator.migrate(db, now: Startup.now())
        return (db, SystemClock())
    }

    /// The password from standard input (first line) when it is piped, else a generated one.
    static func password() -> (String, generated: Bool) {
        if isatty(0) == 0, let line = readLine(strippingNewline: true), !line.isEmpty {
            return (line, false)
        }
        return (generate(), true)
    }

    /// 20 characters from an alphabet without look-alikes: about 115 bits.
    static func generate() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789")
        return String(Sodium.randomBytes(20).map { alphabet[Int($0) % alphabet.count] })
    }
}
