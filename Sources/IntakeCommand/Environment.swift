import FastCGI
import Foundation
import Intake
import Logging

/// Start-up shared by the subcommands: configuration from the environment, logging.
enum Startup {
    /// Loads the configuration, or prints the error naming the variable and exits 2.
    static func configuration() -> Configuration {
        do {
            return try Configuration.load(ProcessInfo.processInfo.environment,
                                          workingDirectory: FileManager.default.currentDirectoryPath)
        } catch {
            FileHandle.standardError.write(Data("intake: configuration error: \(error)\n".utf8))
            Foundation.exit(2)
        }
    }

    /// Logs to stderr at the configured level, one line per event with metadata, in
    /// `StreamLogHandler`'s format but made cheaply (see `StandardErrorLogHandler`).
    static func bootstrapLogging(_ configuration: Configuration) {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StandardErrorLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Creates `INTAKE_HOME` if missing.
    static func ensureHome(_ configuration: Configuration) throws {
        try FileManager.default.createDirectory(atPath: configuration.home, withIntermediateDirectories: true)
    }

    /// Prints `message` to stderr and exits with `code`.
    static func fail(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("intake: \(message)\n".utf8))
        Foundation.exit(code)
    }

    /// An ISO-8601 UTC timestamp for records written at start-up.
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
