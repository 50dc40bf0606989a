import Intake
import Integrations
import Metrics

extension SiteMetrics {
    /// Every metric in Prometheus' text format: the counters summed over every process's slot,
    /// then the figures read now — files by delivery state (from the totals the database's
    /// triggers keep), the workers running and each process's resident memory.
    public func exposition(files: [SiteTotals.StatusTotal]) -> String {
        let totals = shared.totals()
        var out = PrometheusText()

        out.family("intake_http_requests_total", .counter, help: "Requests answered by the workers, by route pattern (or unmatched), method and status.")
        let statuses = MetricsLayout.statusLabels
        for (line, request) in layout.lines.enumerated() {
            for (column, status) in statuses.enumerated() {
                let n = totals[layout.requests + line * statuses.count + column]
                guard n > 0 else { continue }
                out.sample("intake_http_requests_total", [("route", layout.routes[request.route]), ("method", request.method), ("status", status)], n)
            }
        }

        out.family("intake_http_request_duration_seconds", .histogram,
                   help: "Time from a request's arrival at a worker to its answer's last byte, by route pattern.")
        let buckets = MetricsLayout.durationBounds.count + 1
        for (route, pattern) in layout.routes.enumerated() {
            let counts = Array(totals[(layout.durationBuckets + route * buckets)..<(layout.durationBuckets + (route + 1) * buckets)])
            guard counts.contains(where: { $0 > 0 }) else { continue }
            out.histogram("intake_http_request_duration_seconds", [("route", pattern)], upperBounds: MetricsLayout.durationBounds,
                          bucketCounts: counts, sum: Double(totals[layout.durationSums + route]) / 1e9)
        }

        out.family("intake_uploads_total", .counter, help: "Files accepted, by how they arrived (multipart: one request; tus: resumable).")
        for (i, transfer) in UploadTransfer.allCases.enumerated() {
            out.sample("intake_uploads_total", [("kind", transfer.rawValue)], totals[layout.uploads + i])
        }
        out.family("intake_upload_bytes_total", .counter, help: "Bytes of the files accepted, by how they arrived.")
        for (i, transfer) in UploadTransfer.allCases.enumerated() {
            out.sample("intake_upload_bytes_total", [("kind", transfer.rawValue)], totals[layout.uploadBytes + i])
        }

        out.family("intake_token_refreshes_total", .counter, help: "OAuth access token refreshes at the providers, by provider and result.")
        for (row, provider) in OAuthProvider.Kind.allCases.enumerated() {
            for (column, result) in TokenRefreshResult.allCases.enumerated() {
                out.sample("intake_token_refreshes_total", [("provider", provider.rawValue), ("result", result.rawValue)],
                           totals[layout.refreshes + row * TokenRefreshResult.allCases.count + column])
            }
        }

        out.family("intake_job_runs_total", .counter, help: "Background job runs in intake serve, by job and result.")
        for (i, job) in Jobs.names.enumerated() {
            out.sample("intake_job_runs_total", [("job", job), ("result", "ok")], totals[layout.jobs + i * 2])
            out.sample("intake_job_runs_total", [("job", job), ("result", "error")], totals[layout.jobs + i * 2 + 1])
        }

        out.family("intake_deliveries", .gauge, help: "Received files by delivery state (delivering, uploaded: delivered, failed).")
        for total in files { out.sample("intake_deliveries", [("state", total.status.rawValue)], UInt64(max(total.files, 0))) }
        out.family("intake_delivery_bytes", .gauge, help: "Bytes of the received files by delivery state.")
        for total in files { out.sample("intake_delivery_bytes", [("state", total.status.rawValue)], UInt64(max(total.bytes, 0))) }

        var running = 0
        var memory: [(String, Int64)] = []
        for (slot, pid) in shared.slotProcesses().enumerated() {
            guard let bytes = ProcessFigures.residentBytes(of: pid) else { continue }
            if slot == supervisorSlot && shared.slotCount > 1 {
                memory.append(("supervisor", bytes))
            } else {
                running += 1
                memory.append(("worker-\(slot)", bytes))
            }
        }
        out.family("intake_workers", .gauge, help: "Worker processes running.")
        out.sample("intake_workers", [], UInt64(running))
        out.family("intake_process_resident_memory_bytes", .gauge, help: "Resident memory of each process of intake serve (worker-N by slot, supervisor).")
        for (process, bytes) in memory { out.sample("intake_process_resident_memory_bytes", [("process", process)], UInt64(bytes)) }
        return out.text
    }
}
