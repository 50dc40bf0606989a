import Database
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real thing for end-to-end tests: `intake serve` (the built binary) on a unix socket in a
/// temporary INTAKE_HOME, behind a real nginx on a free loopback port, started with the same
/// rendered development config that `scripts/serve` uses.
public final class IntakeTestServer: @unchecked Sendable {  // used from one test at a time; fields set once
    public let home: String
    public let port: UInt16
    public let environment: [String: String]
    /// The server's database: `$home/intake.db`, or with `INTAKE_TEST_DATABASE_URL` a
    /// PostgreSQL database of its own.
    public let database: DatabaseLocation
    /// Whether this server made its PostgreSQL database (and drops it when it stops).
    private let ownsDatabase: Bool
    private var nginx: Process?
    /// Each host's `intake serve` (one unless `hosts` > 1), its environment and log.
    private var serves: [Process?]
    private let hostEnvironments: [[String: String]]
    private let serveLogs: [String]
    private var serve: Process? { serves[0] }
    private var serveLog: String { serveLogs[0] }

    /// The package root, found from this file's location.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `intake` binary: `INTAKE_BIN`, else the one built beside the test bundle.
    public static let binary: String = {
        if let bin = ProcessInfo.processInfo.environment["INTAKE_BIN"] { return bin }
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory.appendingPathComponent("intake").path,
                          bundleDirectory.deletingLastPathComponent().appendingPathComponent("intake").path,
                          packageRoot + "/.build/debug/intake"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return packageRoot + "/.build/debug/intake"
    }()

    /// Starts both processes and waits until `/healthz` answers through nginx. `extraEnvironment`
    /// adds or overrides variables; an empty value removes one. `beforeStart` runs with the
    /// environment once INTAKE_HOME exists and before `intake serve` starts (to restore a
    /// backup into it, say).
    ///
    /// With `hosts` > 1 (PostgreSQL only), that many `intake serve`, each as a host of its own:
    /// its own hostname (a UTS namespace: `host-a`, `host-b`, …), `INTAKE_HOME` and socket, one
    /// database, one secret key, one shared spool and storage folder (the multi-host layout the
    /// README describes), behind one nginx `upstream`. `home` is the first host's.
    public init(workers: Int = 2, threads: Int = 4, grace: Double = 10, hosts: Int = 1, extraEnvironment: [String: String] = [:],
                beforeStart: (([String: String]) throws -> Void)? = nil) throws {
        home = try Self.makeTemporaryDirectory()
        port = FreePort.find()
        var env = ProcessInfo.processInfo.environment
        env["INTAKE_HOME"] = home
        env["INTAKE_LISTEN"] = home + "/intake.sock"
        env["INTAKE_HTTP_PORT"] = String(port)
        env["INTAKE_BASE_URL"] = "http://127.0.0.1:\(port)"
        env["INTAKE_WORKERS"] = String(workers)
        env["INTAKE_THREADS"] = String(threads)
        env["INTAKE_SHUTDOWN_GRACE"] = String(grace)
        env["INTAKE_PUBLIC_DIR"] = Self.packageRoot + "/public"
        env["INTAKE_TEMPLATES_DIR"] = Self.packageRoot + "/templates"
        env["INTAKE_LOG_LEVEL"] = "info"
        // An empty value removes the variable (to test the defaults, e.g. no INTAKE_BASE_URL).
        for (k, v) in extraEnvironment { env[k] = v.isEmpty ? nil : v }
        if let url = env["INTAKE_DATABASE_URL"] {
            database = .postgresql(url: url)
            ownsDatabase = false
        } else if let server = TestDatabases.postgresqlServer {
            database = try TestDatabases.create(on: server, migratedBy: nil)
            if case .postgresql(let url) = database { env["INTAKE_DATABASE_URL"] = url }
            ownsDatabase = true
        } else {
            database = .sqlite(path: home + "/intake.db")
            ownsDatabase = false
        }
        if hosts > 1 {
            guard case .postgresql = database else { throw LaunchError("several hosts need PostgreSQL (INTAKE_TEST_DATABASE_URL)") }
            env["INTAKE_SECRET_KEY"] = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            env["INTAKE_SPOOL_DIR"] = home + "/spool"
            env["INTAKE_STORAGE_DIR"] = home + "/storage"
        }
        environment = env
        var environments = [env]
        var logs = [home + "/serve.log"]
        for index in 1..<max(hosts, 1) {
            let hostHome = home + "/\(Self.hostName(index))"
            try FileManager.default.createDirectory(atPath: hostHome, withIntermediateDirectories: true)
            var hostEnv = env
            hostEnv["INTAKE_HOME"] = hostHome
            hostEnv["INTAKE_LISTEN"] = hostHome + "/intake.sock"
            environments.append(hostEnv)
            logs.append(hostHome + "/serve.log")
        }
        hostEnvironments = environments
        serveLogs = logs
        serves = Array(repeating: nil, count: environments.count)

        let nginxDir = home + "/nginx"
        try FileManager.default.createDirectory(atPath: nginxDir + "/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: nginxDir + "/tmp", withIntermediateDirectories: true)
        let upstreams = hosts > 1 ? environments.flatMap { ["--upstream", $0["INTAKE_LISTEN"]!] } : []
        let rendered = try Self.run(Self.binary, ["nginx-config", "--template", Self.packageRoot + "/nginx/intake.dev.conf"] + upstreams, environment: env)
        try rendered.write(toFile: nginxDir + "/nginx.conf", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.packageRoot + "/nginx/fastcgi_params.conf", toPath: nginxDir + "/fastcgi_params.conf")

        try beforeStart?(env)
        for index in serves.indices { try launchHost(index) }
        nginx = try Self.start(Self.nginxBinary, ["-p", nginxDir + "/", "-c", nginxDir + "/nginx.conf", "-e", "logs/error.log"],
                               environment: env, log: nginxDir + "/logs/stderr.log")
        try waitUntilHealthy()
    }

    deinit { stop() }

    /// `host-a`, `host-b`, …: the hostname of host `index` when there are several.
    public static func hostName(_ index: Int) -> String { "host-" + String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index))) }

    /// How many hosts (`intake serve` processes) this server has.
    public var hostCount: Int { serves.count }

    private func launchHost(_ index: Int) throws {
        if serves.count == 1 {
            serves[0] = try Self.start(Self.binary, ["serve"], environment: hostEnvironments[0], log: serveLogs[0])
        } else {
            // A host of its own name: leases carry it, and a host never judges another's processes.
            serves[index] = try Self.start("/usr/bin/unshare", ["--uts", "/bin/sh", "-c", #"hostname "$0" && exec "$@""#,
                                                                Self.hostName(index), Self.binary, "serve"],
                                           environment: hostEnvironments[index], log: serveLogs[index])
        }
    }

    /// Host `index`'s supervisor pid.
    public func hostPID(_ index: Int) -> Int32 { serves[index]?.processIdentifier ?? -1 }

    /// Host `index`'s log.
    public func serveLogText(host index: Int) -> String { (try? String(contentsOfFile: serveLogs[index], encoding: .utf8)) ?? "" }

    /// Kills host `index` at once, supervisor and workers (SIGKILL), as when its machine fails.
    public func killHost(_ index: Int) {
        guard let process = serves[index], process.isRunning else { return }
        let workers = workerPIDs(of: process.processIdentifier)
        kill(process.processIdentifier, SIGKILL)
        for pid in workers { kill(pid, SIGKILL) }
        process.waitUntilExit()
        // Gone means gone: until the last worker has exited, the socket still accepts.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, workers.contains(where: Self.isRunning) { usleep(10_000) }
        serves[index] = nil
    }

    /// Whether process `pid` exists and has not exited (a zombie has).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// Starts host `index` again and waits until its workers serve.
    public func restartHost(_ index: Int) throws {
        let before = serveLogText(host: index).count
        try launchHost(index)
        let deadline = Date().addingTimeInterval(30)
        // Serving, and back in nginx's rotation (a host that failed is left out for a while).
        while Date() < deadline {
            let since = serveLogText(host: index).dropFirst(before)
            if since.contains("serving") && since.contains("path=/healthz") { return }
            if since.contains("serving") { _ = try? get("/healthz") }
            usleep(50_000)
        }
        throw LaunchError("host \(index) did not start again:\n\(serveLogText(host: index))")
    }

    /// A new connection to the server's database.
    public func openDatabase() throws -> any Database { try database.open() }

    /// The supervisor's pid.
    public var servePID: Int32 { serve?.processIdentifier ?? -1 }

    /// The worker processes: children of the supervisor running `intake worker`.
    public func workerPIDs() -> [Int32] { workerPIDs(of: servePID) }

    /// The children of supervisor `me`.
    public func workerPIDs(of me: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == me
        }.sorted()
    }

    /// Creates an account with `intake admin create`, the password given on standard input.
    public func createUser(email: String, name: String = "Test User", role: String = "user", password: String = "correct horse battery") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["admin", "create", "--email", email, "--name", name, "--role", role]
        process.environment = environment
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data((password + "\n").utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LaunchError("intake admin create failed: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
    }

    /// A cookie-keeping client for this server.
    public func session() -> WebSession { WebSession(port: port) }

    /// The files (not folders) left anywhere under the spool directory.
    public var spoolFiles: [String] { Self.files(under: home + "/spool") }

    /// Regular files under `path`, relative to it.
    public static func files(under path: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var out: [String] = []
        while let name = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { out.append(name) }
        }
        return out
    }

    /// A GET through nginx.
    public func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPResult {
        try HTTPClient.request(port: port, path: path, headers: headers)
    }

    /// Sends a signal to the supervisor.
    public func signalServe(_ signal: Int32) { kill(servePID, signal) }

    /// Waits for the supervisor to exit and returns its exit status.
    public func waitForServeExit(timeout: Double) -> Int32? {
        guard let serve else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while serve.isRunning && Date() < deadline { usleep(20_000) }
        return serve.isRunning ? nil : serve.terminationStatus
    }

    /// What the supervisor and its workers logged.
    public func serveLogText() -> String { (try? String(contentsOfFile: serveLog, encoding: .utf8)) ?? "" }

    /// Stops nginx and the supervisor and removes the temporary home.
    public func stop() {
        if let nginx, nginx.isRunning {
            kill(nginx.processIdentifier, SIGQUIT)
            nginx.waitUntilExit()
        }
        for case let serve? in serves where serve.isRunning { kill(serve.processIdentifier, SIGTERM) }
        for case let serve? in serves { serve.waitUntilExit() }
        nginx = nil
        serves = serves.map { _ in nil }
        if ownsDatabase { TestDatabases.drop(database) }
        if ProcessInfo.processInfo.environment["INTAKE_KEEP_TEST_HOME"] == nil {
            try? FileManager.default.removeItem(atPath: home)
        }
    }

    private func waitUntilHealthy() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            // Healthy through nginx, and every worker started (the supervisor logs "serving" then).
            if let result = try? get("/healthz"), result.status == 200, serves.indices.allSatisfy({ serveLogText(host: $0).contains("serving") }) { return }
            for (index, serve) in serves.enumerated() {
                if let serve, !serve.isRunning {
                    throw LaunchError("intake serve exited with \(serve.terminationStatus):\n\(serveLogText(host: index))")
                }
            }
            usleep(50_000)
        }
        throw LaunchError("Intake did not become healthy in 30 s. serve log:\n\(serveLogText())")
    }

    static var nginxBinary: String {
        for candidate in ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "nginx"
    }

    static func makeTemporaryDirectory() throws -> String {
        // Short: a unix socket path must fit in 108 bytes.
        var template = Array("/tmp/intake-test-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw LaunchError("mkdtemp failed") }
        return String(cString: dir)
    }

    static func start(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws -> Process {
        // Appended to: a host started again keeps its earlier lines.
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// What a finished command said: its exit status, standard output and standard error.
    public struct Outcome: Sendable {
        public let status: Int32
        public let output: String
        public let errors: String
    }

    /// Runs a command to completion; its exit status is the caller's to judge.
    public static func outcome(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self), errors: String(decoding: errors, as: UTF8.self))
    }

    /// `intake` with `arguments` against this server's configuration.
    public func intake(_ arguments: [String]) throws -> Outcome {
        try Self.outcome(Self.binary, arguments, environment: environment)
    }

    /// Runs a command to completion and returns its standard output; a non-zero exit throws,
    /// unless `allowFailure` (a command whose exit status reports what it found).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String], allowFailure: Bool = false) throws -> String {
        let done = try outcome(executable, arguments, environment: environment)
        guard done.status == 0 || allowFailure else {
            throw LaunchError("\(executable) \(arguments.joined(separator: " ")) failed: \(done.errors)")
        }
        return done.output
    }
}

/// A test fixture that could not be started; the message carries the logs.
public struct LaunchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
