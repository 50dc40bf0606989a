import Intake
import Spool
import Templates
import Web

/// `GET /admin/diagnostics`: the site at a glance (the seed's `/debug-all`) — storage accounts by
/// state, portals that take no uploads and why, deliveries failed or overdue, stale leases and
/// reservations, the background jobs' last runs, and whether clamd, the mail server and the
/// spool's disk are fit.
enum AdminDiagnosticsShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let overview = try SiteDiagnostics(db: context.services.database, clock: context.services.clock).overview()
        let now = context.services.clock.now()
        return try PageView.render(context, "admin/diagnostics", title: "Diagnostics", [
            "accounts": .list(overview.accountsByState.map { state in
                ["state": .string(state.status.plainWords), "count": .int(Int64(state.count)), "trouble": .bool(state.count > 0 && (state.status == .error || state.status == .disconnected))]
            }),
            "stalled": .list(overview.stalledPortals.map(stalledPortal)),
            "hasStalled": .bool(!overview.stalledPortals.isEmpty),
            "switchedOff": .string(Counted.text(overview.portalsSwitchedOff, "portal")),
            "failed": .int(overview.failedDeliveries),
            "failures": .list(overview.recentFailures.map { failure in
                ["id": .int(failure.fileID), "name": .string(failure.fileName), "owner": .string(failure.ownerEmail),
                 "reason": .string(failure.reason ?? "no reason recorded"), "at": UTCDate.moment(failure.at)]
            }),
            "hasFailures": .bool(!overview.recentFailures.isEmpty),
            "waiting": .string(overview.waitingDeliveries >= SiteDiagnostics.countLimit ? "\(SiteDiagnostics.countLimit)+" : "\(overview.waitingDeliveries)"),
            "overdue": .int(Int64(overview.overdueDeliveries)),
            "staleLeases": .string(Counted.text(overview.staleLeases, "stale delivery lease")),
            "staleReservations": .string(Counted.text(overview.staleReservations, "stale quota reservation")),
            "zombieTrouble": .bool(overview.staleLeases + overview.staleReservations > 0),
            "jobs": .list(overview.jobs.map { job in
                ["name": .string(jobNames[job.name] ?? job.name), "code": .string(job.name), "ranAt": UTCDate.moment(job.lastRunAt), "failing": .bool(job.failing),
                 "okAt": job.lastOKAt.map(UTCDate.moment) ?? .null,
                 "error": job.failing ? .string(job.lastError ?? "") : .null, "failures": .int(Int64(job.failuresInARow)),
                 "ms": .int(job.milliseconds)]
            }),
            "jobsStale": .bool(overview.jobs.map(\.lastRunAt).max().map { now - $0 > 3 * Int64(max(context.services.configuration.jobsInterval, 60)) } ?? true),
            "services": .list(services(context)),
        ])
    }

    static func stalledPortal(_ stalled: SiteDiagnostics.StalledPortal) -> TemplateValue {
        ["slug": .string(stalled.portal.slug), "name": .string(stalled.portal.name), "owner": .string(stalled.ownerEmail),
         "why": .string(stalled.why), "cure": .string(stalled.cure)]
    }

    /// What each job of the jobs pass does, in words (its code stays beside it).
    static let jobNames: [String: String] = [
        "digests": "Daily upload digests", "failed_deliveries": "Failed deliveries kept for retry", "idempotency_keys": "Expired idempotency keys",
        "job_runs": "This list's history", "jobs": "The jobs pass", "mail": "Mail outbox", "oauth_states": "Expired sign-in attempts",
        "orphan_spools": "Left-over upload files", "over_quota": "Over-quota policy", "plan_renewals": "Plan renewals",
        "planner_statistics": "Database statistics", "purchase_expiry": "Expiring storage purchases", "reservations": "Stale quota reservations",
        "resumable_uploads": "Expired resumable uploads", "sessions": "Expired sessions", "storage_health": "Storage health checks",
        "usage_snapshots": "Daily usage snapshots",
    ]

    /// clamd, the mail server and the spool's disk, each with whether it is fit and why not.
    static func services(_ context: RequestContext) -> [TemplateValue] {
        let configuration = context.services.configuration
        var rows: [TemplateValue] = []
        /// `ok` nil: switched off by configuration — neither fine nor broken, shown as a warning.
        func row(_ name: String, ok: Bool?, _ state: String) {
            rows.append(["name": .string(name), "level": .string(ok.map { $0 ? "ok" : "problem" } ?? "warning"),
                         "verdict": .string(ok.map { $0 ? "OK" : "Problem" } ?? "Off"), "state": .string(state)])
        }
        if let scanner = context.services.parts.scanner {
            let answers = scanner.ping()
            row("Virus scanner (clamd)", ok: answers, answers ? "answers PING at \(configuration.clamdSocket ?? "")" : "does not answer at \(configuration.clamdSocket ?? ""); uploads wait for it")
        } else {
            row("Virus scanner (clamd)", ok: nil, "not configured (INTAKE_CLAMD_SOCKET is not set): files are not scanned")
        }
        if let url = configuration.smtpURL {
            let problem: String?
            if let curl = try? context.services.curl() { problem = curl.mailServerProblem(url: url) } else { problem = "libcurl is not available" }
            if let problem {
                row("Mail server", ok: false, "cannot be reached: \(problem); mail waits in the outbox")
            } else {
                row("Mail server", ok: true, "takes connections")
            }
        } else {
            row("Mail server", ok: nil, "not configured (INTAKE_SMTP_URL is not set): no mail is sent")
        }
        if let space = Spool(directory: configuration.spoolDirectory).space() {
            let low = space.free < max(1 << 30, space.total / 20)
            row("Spool disk", ok: !low, "\(ByteSize(bytes: space.free)) free of \(ByteSize(bytes: space.total))\(low ? ": nearly full, uploads will be refused" : "")")
        } else {
            row("Spool disk", ok: false, "\(configuration.spoolDirectory) cannot be looked at")
        }
        return rows
    }
}
