import ArgumentParser
import Foundation
import Intake

/// The `intake` executable: subcommands only; all behaviour lives in the modules.
@main
struct IntakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Intake, a self-hosted client upload portal (FastCGI behind nginx).",
        version: IntakeVersion.current,
        subcommands: [Serve.self, Worker.self, Migrate.self, AdminCommand.self, DemoSeed.self, JobsCommand.self, ShowConfig.self, NginxConfig.self,
                      ReconcileCommand.self]
    )

    /// As ArgumentParser runs a command, except that a usage error (an unknown option, a
    /// missing value) exits 2, the code Intake's commands give their own usage errors, rather
    /// than ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
