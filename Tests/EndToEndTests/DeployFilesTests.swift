import Foundation
import Testing
import TestSupport

/// deploy/: the systemd units pass `systemd-analyze verify`, and the production nginx config
/// keeps every location of the generated development config with its directives, and passes
/// `nginx -t` (the production nginx tests in NginxErrorTests also serve through it).
@Suite("Deploy files: systemd units verified, the production nginx config in step with the generated one", .serialized,
       .enabled(if: integrationEnabled && !TestDatabases.onPostgreSQL, "set INTAKE_INTEGRATION=1 (scripts/test does); once, in the SQLite pass"))
struct DeployFilesTests {
    static let deploy = IntakeTestServer.packageRoot + "/deploy"

    // MARK: - nginx

    /// An nginx config as a tree: each statement's words, and a block's statements inside it.
    struct Statement {
        var words: [String]
        var block: [Statement]?
        var name: String { words.first ?? "" }
    }

    /// Reads nginx's syntax: words, quoted strings, `#` comments, `;` and braces.
    static func parse(_ text: String) throws -> [Statement] {
        var tokens: [String] = []
        var chars = Array(text)[...]
        while let c = chars.first {
            if c.isWhitespace { chars.removeFirst() } else if c == "#" {
                while let d = chars.first, d != "\n" { chars.removeFirst() }
            } else if c == "{" || c == "}" || c == ";" {
                tokens.append(String(c)); chars.removeFirst()
            } else if c == "\"" || c == "'" {
                chars.removeFirst()
                var word = ""
                while let d = chars.first, d != c { word.append(d); chars.removeFirst() }
                chars.removeFirst()
                tokens.append(word)
            } else {
                var word = ""
                while let d = chars.first, !d.isWhitespace, !";{}".contains(d) { word.append(d); chars.removeFirst() }
                tokens.append(word)
            }
        }
        var position = 0
        func statements() throws -> [Statement] {
            var out: [Statement] = []
            var words: [String] = []
            while position < tokens.count {
                let token = tokens[position]
                position += 1
                switch token {
                case ";": out.append(Statement(words: words, block: nil)); words = []
                case "{": out.append(Statement(words: words, block: try statements())); words = []
                case "}": return out
                default: words.append(token)
                }
            }
            return out
        }
        return try statements()
    }

    /// What the comparison needs of one config: its maps, the directives of the server that has
    /// the locations (with those of `http` around it), and each location's directives (a nested
    /// location under its parent's name), paths replaced by what they stand for.
    struct Shape {
        var maps: [String: [String]] = [:]
        var server: Set<String> = []
        var locations: [String: Set<String>] = [:]
    }

    static func shape(_ statements: [Statement], paths: [(String, String)]) -> Shape {
        func normalized(_ s: Statement) -> String {
            switch s.name {
            case "fastcgi_pass": return "fastcgi_pass UPSTREAM"
            case "include": return "include " + (s.words.last?.split(separator: "/").last.map(String.init) ?? "")
            default:
                return s.words.map { word in paths.reduce(word) { $0.replacingOccurrences(of: $1.0, with: $1.1) } }.joined(separator: " ")
            }
        }
        var shape = Shape()
        func location(_ s: Statement, under parent: String) {
            let name = (parent.isEmpty ? "" : parent + " > ") + s.words.joined(separator: " ")
            shape.locations[name] = Set((s.block ?? []).filter { $0.block == nil }.map(normalized))
            for inner in s.block ?? [] where inner.name == "location" { location(inner, under: name) }
        }
        func walk(_ statements: [Statement]) {
            for s in statements {
                if s.name == "map" {
                    shape.maps[s.words.joined(separator: " ")] = (s.block ?? []).map { $0.words.joined(separator: " ") }
                } else if s.name == "http" {
                    shape.server.formUnion((s.block ?? []).filter { $0.block == nil && $0.name == "client_max_body_size" }.map(normalized))
                    walk(s.block ?? [])
                } else if s.name == "server", let block = s.block, block.contains(where: { $0.name == "location" }) {
                    shape.server.formUnion(block.filter { $0.block == nil }.map(normalized))
                    for inner in block where inner.name == "location" { location(inner, under: "") }
                }
            }
        }
        walk(statements)
        return shape
    }

    @Test("deploy/nginx-intake.conf has the generated config's locations, each with its directives (only expiry times may differ), its maps and its error pages; it passes nginx -t")
    func nginxInStep() throws {
        try withTemporaryDirectory("intake-deploy") { home in
            var environment = ProcessInfo.processInfo.environment
            environment["INTAKE_HOME"] = home
            environment["INTAKE_LISTEN"] = home + "/intake.sock"
            environment["INTAKE_PUBLIC_DIR"] = IntakeTestServer.packageRoot + "/public"
            let generated = try IntakeTestServer.run(IntakeTestServer.binary, ["nginx-config", "--template", IntakeTestServer.packageRoot + "/nginx/intake.dev.conf"],
                                                     environment: environment)
            let development = Self.shape(try Self.parse(generated), paths: [(IntakeTestServer.packageRoot + "/public", "PUBLIC"), (home + "/storage", "STORAGE")])
            let production = Self.shape(try Self.parse(try String(contentsOfFile: Self.deploy + "/nginx-intake.conf", encoding: .utf8)),
                                        paths: [("/opt/intake/public", "PUBLIC"), ("/var/lib/intake/storage", "STORAGE")])

            #expect(development.locations.count >= 8, "the generated config was read: \(development.locations.keys.sorted())")
            #expect(Set(production.locations.keys) == Set(development.locations.keys), "the same locations")
            for (name, directives) in development.locations.sorted(by: { $0.key < $1.key }) {
                let kept = production.locations[name] ?? []
                let expiry = { (set: Set<String>) in set.contains { $0.hasPrefix("expires ") } }
                #expect(directives.filter { !$0.hasPrefix("expires ") }.isSubset(of: kept) && expiry(directives) == expiry(kept),
                        "location \(name) lacks \(directives.subtracting(kept).sorted())")
            }
            #expect(production.maps == development.maps, "the error maps")
            let pages = development.server.filter { $0.hasPrefix("error_page ") || $0.hasPrefix("client_max_body_size ") }
            #expect(pages.count == 3 && pages.isSubset(of: production.server), "\(pages.subtracting(production.server).sorted())")
        }
        // nginx -t on the production config (paths pointed at a temporary prefix), then it starts.
        try ProductionNginx().stop()
    }

    @Test("the parser sees what nginx sees: words, quoted strings, comments, nested blocks")
    func parser() throws {
        let parsed = try Self.parse("""
            # a comment; with { braces }
            map $a $b { "~x y" z; default w; }
            server { location /a/ { add_header X "a; b" always; location = /a/b { internal; } } }
            """)
        #expect(parsed.map(\.name) == ["map", "server"])
        #expect(parsed[0].block?.map(\.words) == [["~x y", "z"], ["default", "w"]])
        let shape = Self.shape(parsed, paths: [])
        #expect(shape.locations == ["location /a/": ["add_header X a; b always"], "location /a/ > location = /a/b": ["internal"]])
    }

    // MARK: - systemd

    @Test("systemd-analyze verify accepts deploy/intake.service, intake-backup.service and intake-backup.timer without a warning")
    func systemdUnits() throws {
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let tool = try #require(analyze, "systemd-analyze is missing: scripts/install-deps test installs systemd")
        try withTemporaryDirectory("intake-units") { folder in
            // verify checks that ExecStart's program exists: the built binary stands in for /opt/intake/bin/intake.
            var names: [String] = []
            for name in ["intake.service", "intake-backup.service", "intake-backup.timer"] {
                let text = try String(contentsOfFile: Self.deploy + "/" + name, encoding: .utf8)
                try text.replacingOccurrences(of: "/opt/intake/bin/intake", with: IntakeTestServer.binary)
                    .write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
                names.append(folder + "/" + name)
            }
            let verified = try IntakeTestServer.outcome(tool, ["verify"] + names, environment: ProcessInfo.processInfo.environment)
            #expect(verified.status == 0 && verified.errors.isEmpty && verified.output.isEmpty, "\(verified.output)\(verified.errors)")

            // The check is not blind: an unknown key is reported.
            try (String(contentsOfFile: names[0], encoding: .utf8) + "\n[Service]\nProtectEverything=yes\n").write(toFile: names[0], atomically: true, encoding: .utf8)
            let broken = try IntakeTestServer.outcome(tool, ["verify", names[0]], environment: ProcessInfo.processInfo.environment)
            #expect(broken.errors.contains("Unknown key 'ProtectEverything'"), "\(broken.errors)")
        }
        let unit = try String(contentsOfFile: Self.deploy + "/intake.service", encoding: .utf8)
        // The supervisor drains on SIGTERM (Supervisor.run); its grace is 30 s plus a second by default.
        #expect(unit.contains("\nKillSignal=SIGTERM\n") && unit.contains("\nKillMode=mixed\n") && unit.contains("\nTimeoutStopSec=45\n"))
        let backup = try String(contentsOfFile: Self.deploy + "/intake-backup.service", encoding: .utf8)
        #expect(backup.contains("intake backup --force --to \"/var/backups/intake/intake-$(date -u +%%Y-%%m-%%d).db\"") && backup.contains("tail -n +15"),
                "a dated backup a day, the 14 newest kept")
    }
}
