import Foundation
import Mustache
import Templates

/// Renders one realistic admin page — a layout with navigation, a 200-row user table through a
/// partial with HTML-special characters to escape, a nested list — with Intake's engine and with
/// hummingbird-project/swift-mustache, on the same templates and the same data.
/// Warm: templates compiled once, rendered repeatedly. Cold: compile and render each time.
enum TemplateBenchmark {
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>{{$title}}Intake{{/title}}</title>
          <link rel="stylesheet" href="/css/app.css">
        </head>
        <body>
          <header class="site-header">
            <a class="brand" href="/">Intake</a>
            <nav aria-label="Main">
              <ul>
                {{#nav}}
                <li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>
                {{/nav}}
              </ul>
            </nav>
            <form method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button>Sign out {{user.name}}</button></form>
          </header>
          {{#flash}}
          <p class="flash flash-{{kind}}" role="status">{{message}}</p>
          {{/flash}}
          <main>
            {{$content}}
            {{/content}}
          </main>
          <footer>Intake {{version}}</footer>
        </body>
        </html>

        """

    static let page = """
        {{<layout}}
        {{$title}}Users · Intake admin{{/title}}
        {{$content}}
        <h1>Users</h1>
        <aside>
          <ul class="groups">
            {{#groups}}
            <li>{{name}}
              <ul>
                {{#members}}
                <li>{{.}}</li>
                {{/members}}
              </ul>
            </li>
            {{/groups}}
          </ul>
        </aside>
        <table class="data">
          <thead><tr><th>Id</th><th>Name</th><th>E-mail</th><th>Plan</th><th>Used</th><th>Quota</th><th>Status</th></tr></thead>
          <tbody>
            {{#users}}
            {{>user_row}}
            {{/users}}
          </tbody>
        </table>
        {{^users}}<p>No users.</p>{{/users}}
        {{/content}}
        {{/layout}}

        """

    static let row = """
        <tr class="{{#over}}over{{/over}}">
          <td>{{id}}</td>
          <td><a href="/admin/users/{{id}}">{{name}}</a></td>
          <td>{{email}}</td>
          <td>{{plan.name}}</td>
          <td>{{used}}</td>
          <td>{{quota}}</td>
          <td>{{#disabled}}<span class="badge">disabled</span>{{/disabled}}{{^disabled}}active{{/disabled}}</td>
        </tr>

        """

    static let sources = ["layout": layout, "page": page, "user_row": row]

    static func users() -> [(id: Int, name: String, email: String, plan: String, used: String, quota: String, over: Bool, disabled: Bool)] {
        (1...200).map { i in
            (i, "O'Brien & <Sons> #\(i) \"Ltd\"", "user\(i)+tag@example.com", i % 3 == 0 ? "Pro & Team" : "Free <trial>",
             "\(i * 37 % 1000) MB", "\(i % 5 + 1) GB", i % 7 == 0, i % 11 == 0)
        }
    }

    static func intakeData() -> TemplateValue {
        .map([
            "nav": .list([("Overview", "/admin", false), ("Users", "/admin/users", true), ("Pricing", "/admin/storage/pricing", false),
                          ("Quotas", "/admin/storage/quotas", false), ("Tariffs", "/admin/tariffs", false), ("Audit", "/admin/audit", false)]
                .map { .map(["label": .string($0.0), "href": .string($0.1), "current": .bool($0.2)]) }),
            "csrf": "k3J9x_Q2-abc",
            "user": ["name": "Ada <Admin>"],
            "flash": ["kind": "success", "message": "Saved \"pricing\" & quotas."],
            "version": "0.1.0",
            "groups": .list((1...5).map { g in .map(["name": .string("Group <\(g)>"), "members": .list((1...6).map { .string("member & \(g)-\($0)") })]) }),
            "users": .list(users().map { u in
                .map(["id": .int(Int64(u.id)), "name": .string(u.name), "email": .string(u.email), "plan": .map(["name": .string(u.plan)]),
                      "used": .string(u.used), "quota": .string(u.quota), "over": .bool(u.over), "disabled": .bool(u.disabled)])
            }),
        ])
    }

    static func mustacheData() -> [String: Any] {
        [
            "nav": [("Overview", "/admin", false), ("Users", "/admin/users", true), ("Pricing", "/admin/storage/pricing", false),
                    ("Quotas", "/admin/storage/quotas", false), ("Tariffs", "/admin/tariffs", false), ("Audit", "/admin/audit", false)]
                .map { ["label": $0.0, "href": $0.1, "current": $0.2] as [String: Any] },
            "csrf": "k3J9x_Q2-abc",
            "user": ["name": "Ada <Admin>"],
            "flash": ["kind": "success", "message": "Saved \"pricing\" & quotas."],
            "version": "0.1.0",
            "groups": (1...5).map { g in ["name": "Group <\(g)>", "members": (1...6).map { "member & \(g)-\($0)" }] as [String: Any] },
            "users": users().map { u in
                ["id": u.id, "name": u.name, "email": u.email, "plan": ["name": u.plan], "used": u.used, "quota": u.quota,
                 "over": u.over, "disabled": u.disabled] as [String: Any]
            },
        ]
    }

    /// Runs `body` repeatedly for about `seconds` and returns runs per second (best of 3 rounds).
    static func rate(seconds: Double = 1, _ body: () -> Int) -> Double {
        var best = 0.0
        var sink = 0
        for _ in 0..<3 {
            let start = now()
            var runs = 0
            while now() - start < seconds {
                sink &+= body()
                runs += 1
            }
            best = max(best, Double(runs) / (now() - start))
        }
        if sink == 42 { print("") }
        return best
    }

    /// Renders the page `count` times with Intake's engine only: for `valgrind --tool=callgrind`.
    static func profile(count: Int) {
        let value = intakeData()
        let library = try! TemplateLibrary(sources: sources)
        var total = 0
        for _ in 0..<count { total &+= try! library.render("page", value).count }
        print("rendered \(count) pages, \(total) bytes")
    }

    static func run() {
        let intakeValue = intakeData()
        let mustacheValue = mustacheData()
        let intakeLibrary = try! TemplateLibrary(sources: sources)
        let mustacheLibrary = MustacheLibrary(templates: sources.mapValues { try! MustacheTemplate(string: $0) })

        let ours = try! intakeLibrary.render("page", intakeValue)
        let theirs = Array(mustacheLibrary.render(mustacheValue, withTemplate: "page")!.utf8)
        if CommandLine.arguments.contains("--dump") {
            try! String(decoding: ours, as: UTF8.self).write(toFile: "/tmp/intake-page.html", atomically: true, encoding: .utf8)
            try! String(decoding: theirs, as: UTF8.self).write(toFile: "/tmp/mustache-page.html", atomically: true, encoding: .utf8)
        }
        // swift-mustache indents the repeated lines of a section inside a block differently;
        // apart from white space the two pages must be the same.
        let squeeze = { (bytes: [UInt8]) in bytes.filter { $0 != 32 && $0 != 10 } }
        precondition(squeeze(ours) == squeeze(theirs), "the two engines rendered different pages")
        print("templates: page is \(ours.count) bytes (Intake) and \(theirs.count) bytes (swift-mustache); same but for indentation: \(squeeze(ours) == squeeze(theirs))")

        let warmOurs = rate { try! intakeLibrary.render("page", intakeValue).count }
        let warmTheirs = rate { mustacheLibrary.render(mustacheValue, withTemplate: "page")!.utf8.count }
        let coldOurs = rate {
            let library = try! TemplateLibrary(sources: sources)
            return try! library.render("page", intakeValue).count
        }
        let coldTheirs = rate {
            let library = MustacheLibrary(templates: sources.mapValues { try! MustacheTemplate(string: $0) })
            return library.render(mustacheValue, withTemplate: "page")!.utf8.count
        }
        print("templates warm (compiled once): Intake \(Int(warmOurs)) renders/s (\(fmt(1000 / warmOurs)) ms), swift-mustache \(Int(warmTheirs)) renders/s (\(fmt(1000 / warmTheirs)) ms), ratio \(fmt(warmOurs / warmTheirs))x (target >= 10x)")
        print("templates cold (parse + render): Intake \(Int(coldOurs)) /s, swift-mustache \(Int(coldTheirs)) /s, ratio \(fmt(coldOurs / coldTheirs))x (target >= 2x)")
    }
}
