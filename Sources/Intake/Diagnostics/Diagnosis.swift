/// What `intake diagnose` and the admin's diagnostics pages report: checks in the seed's
/// troubleshooting order, each with a verdict, what was found and, when something is wrong, the
/// cure in the words an operator acts on.
public struct Diagnosis: Codable, Sendable, Equatable {
    /// How bad a finding is. Ordered: the worst finding decides a diagnosis's verdict.
    public enum Verdict: String, Codable, Sendable, Comparable {
        case ok, warning, problem

        public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
    }

    /// One thing checked about one subject.
    public struct Finding: Codable, Sendable, Equatable {
        /// Which check (`storage_accounts`, `grants`, `portals`, `files`, `deliveries`, `usage`,
        /// `leases`, `reservations`), for scripts.
        public let check: String
        /// What was looked at, for people: "Google Drive (ann@example.com), account #3".
        public let subject: String
        public let verdict: Verdict
        public let found: String
        /// What to do about it; nil when nothing needs doing.
        public let cure: String?

        public init(check: String, subject: String, verdict: Verdict, found: String, cure: String? = nil) {
            self.check = check
            self.subject = subject
            self.verdict = verdict
            self.found = found
            self.cure = cure
        }
    }

    /// What was diagnosed: "user ann@example.com", "portal taxes-2026", "file 42".
    public let scope: String
    public var findings: [Finding]

    public init(scope: String, findings: [Finding] = []) {
        self.scope = scope
        self.findings = findings
    }

    /// The worst verdict of the findings (ok when there are none).
    public var verdict: Verdict { findings.map(\.verdict).max() ?? .ok }

    /// The findings that need something done, worst first.
    public var troubles: [Finding] { findings.filter { $0.verdict != .ok }.sorted { $0.verdict > $1.verdict } }

    private enum CodingKeys: String, CodingKey { case scope, verdict, findings }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scope = try container.decode(String.self, forKey: .scope)
        findings = try container.decode([Finding].self, forKey: .findings)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scope, forKey: .scope)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(findings, forKey: .findings)
    }
}
