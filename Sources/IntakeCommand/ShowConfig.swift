import ArgumentParser
import Intake

/// `intake config`: the effective configuration, secrets redacted.
struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Print the effective configuration (secrets redacted).")

    func run() throws {
        let config = Startup.configuration()
        for (key, value) in config.describe() { print("\(key)=\(value)") }
    }
}
