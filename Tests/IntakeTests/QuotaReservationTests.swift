import Database
import Foundation
import Synchronization
import Testing
@testable import Intake

@Suite("Quota reservations")
struct QuotaReservationTests {
    @Test("20 parallel reservations that together exceed the quota: the accepted ones fit, usage is their sum")
    func race() throws {
        try withDatabase { setup in
            let location = setup.location
            let user = try UserStore(db: setup, clock: ManualClock()).create(email: "q@example.com", name: "Q", password: "long enough pw", role: .user)
            try QuotaStore(db: setup, clock: ManualClock()).setOverride(userID: user.id, bytes: 1000, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
            let accepted = Mutex<[Int64]>([])
            let refused = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 20) { i in
                do {
                    let db = try location.open()
                    let reservations = QuotaReservations(db: db, clock: ManualClock())
                    let size = Int64(90 + i)  // 90…109 bytes: 20 of them need ~2 KB, the quota is 1 KB
                    switch try reservations.reserve(userID: user.id, bytes: size) {
                    case .reserved(let id):
                        try reservations.commit(reservationID: id, actualBytes: size)
                        accepted.withLock { $0.append(size) }
                    case .overQuota:
                        refused.withLock { $0 += 1 }
                    }
                } catch {
                    Issue.record("\(error)")
                }
            }
            let sizes = accepted.withLock { $0 }
            #expect(!sizes.isEmpty && refused.withLock { $0 } > 0 && sizes.count + refused.withLock { $0 } == 20)
            #expect(sizes.reduce(0, +) <= 1000)
            #expect(try setup.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [user.id], as: Int64.self) == sizes.reduce(0, +))
            #expect(try setup.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        }
    }

    @Test("a refusal says how much space is left, counting other uploads in flight; expired reservations free their space")
    func remaining() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "r@example.com", name: "R", password: "long enough pw", role: .user)
            try QuotaStore(db: db, clock: clock).setOverride(userID: user.id, bytes: 1000, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
            try db.execute("UPDATE users SET storage_used_bytes = 300 WHERE id = $1", [user.id])
            let reservations = QuotaReservations(db: db, clock: clock)
            guard case .reserved(let held) = try reservations.reserve(userID: user.id, bytes: 500) else { Issue.record("should fit"); return }
            #expect(try reservations.reserve(userID: user.id, bytes: 201) == .overQuota(remainingBytes: 200))
            // Without a reservation, room for the rest of the request is asked for, not only for
            // the bytes used now; a refusal changes nothing.
            #expect(try !reservations.use(userID: user.id, bytes: 100, room: 201))
            #expect(try reservations.remaining(userID: user.id) == 200)
            #expect(try reservations.use(userID: user.id, bytes: 100, room: 200))
            #expect(try reservations.remaining(userID: user.id) == 100)
            try db.execute("UPDATE users SET storage_used_bytes = 300 WHERE id = $1", [user.id])
            clock.advance(QuotaReservations.lifetimeSeconds)
            if case .overQuota = try reservations.reserve(userID: user.id, bytes: 600) { Issue.record("the expired reservation still counts") }
            #expect(throws: ValidationError.self) { try reservations.commit(reservationID: 999, actualBytes: 1) }
            try reservations.release(reservationID: held)
        }
    }

    @Test("20 parallel unreserved uses, beside reservations held by other uploads: the used ones fit in what the reservations leave, usage is their sum")
    func unreservedRace() throws {
        try withDatabase { setup in
            let location = setup.location
            let user = try UserStore(db: setup, clock: ManualClock()).create(email: "u@example.com", name: "U", password: "long enough pw", role: .user)
            try QuotaStore(db: setup, clock: ManualClock()).setOverride(userID: user.id, bytes: 1300, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
            // A larger upload streaming in holds 300 bytes throughout.
            guard case .reserved = try QuotaReservations(db: setup, clock: ManualClock()).reserve(userID: user.id, bytes: 300) else {
                Issue.record("the reservation should fit"); return
            }
            let used = Mutex<[Int64]>([])
            let refused = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 20) { i in
                do {
                    let db = try location.open()
                    let size = Int64(90 + i)
                    if try QuotaReservations(db: db, clock: ManualClock()).use(userID: user.id, bytes: size, room: size) {
                        used.withLock { $0.append(size) }
                    } else {
                        refused.withLock { $0 += 1 }
                    }
                } catch {
                    Issue.record("\(error)")
                }
            }
            let sizes = used.withLock { $0 }
            #expect(!sizes.isEmpty && refused.withLock { $0 } > 0 && sizes.count + refused.withLock { $0 } == 20)
            #expect(sizes.reduce(0, +) <= 1000)
            #expect(try setup.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [user.id], as: Int64.self) == sizes.reduce(0, +))
            // A refusal changes nothing: what is left is less than the smallest refused size.
            #expect(try QuotaReservations(db: setup, clock: ManualClock()).remaining(userID: user.id) < 109)
        }
    }
}
