import ArgumentParser
import Intake

/// The `intake` executable: subcommands only; all behaviour lives in the modules.
@main
struct IntakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Intake, a self-hosted client upload portal (FastCGI behind nginx).",
        version: IntakeVersion.current,
        subcommands: [Serve.self, Worker.self, Migrate.self, AdminCommand.self, DemoSeed.self, JobsCommand.self, ShowConfig.self, NginxConfig.self,
                      DiagnoseCommand.self, FixAccountsCommand.self, ReconcileCommand.self, CleanupZombiesCommand.self, MigrateAccountsCommand.self,
                      BackupCommand.self, RestoreCommand.self, RecountCommand.self]
    )
}
