import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real clamd for the tests, on a unix socket in a temporary folder, loading only the test
/// signature database the repository ships (`Tests/Fixtures/clamd`).
public final class ClamdProcess: @unchecked Sendable {  // set up once in init, then only stopped
    public let directory: String
    public let socketPath: String
    private var process: Process?

    /// The EICAR test string, assembled at run time so no file in the repository is one.
    public static let eicar: [UInt8] = Array(("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").utf8)

    public static var binary: String? {
        ["/usr/sbin/clamd", "/usr/bin/clamd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public init() throws {
        guard let binary = Self.binary else { throw LaunchError("clamd is not installed (Debian package clamav-daemon; scripts/test installs it)") }
        var template = Array("/tmp/intake-clamd-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw LaunchError("mkdtemp failed") }
        directory = String(cString: dir)
        socketPath = directory + "/clamd.sock"
        try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: IntakeTestServer.packageRoot + "/Tests/Fixtures/clamd/intake-test.ndb",
                                         toPath: directory + "/db/intake-test.ndb")
        try """
            LocalSocket \(socketPath)
            DatabaseDirectory \(directory)/db
            TemporaryDirectory \(directory)
            Foreground yes
            LogFile \(directory)/clamd.log
            """.write(toFile: directory + "/clamd.conf", atomically: true, encoding: .utf8)
        try start(binary)
    }

    /// Starts clamd on this folder's configuration and waits for its socket.
    private func start(_ binary: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", directory + "/clamd.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: socketPath) {
            guard process.isRunning, Date() < deadline else {
                let log = (try? String(contentsOfFile: directory + "/clamd.log", encoding: .utf8)) ?? ""
                stop()
                throw LaunchError("clamd did not start:\n\(log)")
            }
            usleep(100_000)
        }
    }

    /// Stops clamd and starts it again on the same socket (scans in between find nobody there).
    public func restart() throws {
        stop()
        try? FileManager.default.removeItem(atPath: socketPath)
        guard let binary = Self.binary else { throw LaunchError("clamd is not installed") }
        try start(binary)
    }

    deinit { stop() }

    public func stop() {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        process = nil
    }

    public func removeDirectory() { try? FileManager.default.removeItem(atPath: directory) }
}
