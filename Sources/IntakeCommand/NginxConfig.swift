import ArgumentParser
import FastCGI
import Foundation
import Intake

/// `intake nginx-config`: renders an nginx config template with this configuration's values,
/// so the scripts and the tests build the development config in one way.
struct NginxConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nginx-config",
        abstract: "Render an nginx configuration template (placeholders like @@HTTP_PORT@@) for this configuration.")

    @Option(help: "The template to render.")
    var template = "nginx/intake.dev.conf"

    @Option(name: .customLong("upstream"),
            help: "A host's FastCGI address (a socket path or HOST:PORT), once per host; without it, INTAKE_LISTEN.")
    var upstreams: [String] = []

    func run() throws {
        let config = Startup.configuration()
        guard let address = ListenAddress.parse(config.listen) else {
            Startup.fail("configuration error: INTAKE_LISTEN must be a socket path or 127.0.0.1:PORT, got '\(config.listen)'", code: 2)
        }
        guard let text = try? String(contentsOfFile: template, encoding: .utf8) else {
            Startup.fail("cannot read the template \(template)")
        }
        // nginx started by root would run its workers as `nobody`, who cannot reach the socket
        // (mode 0660) or the files; the development server runs them as the same user instead.
        let user = geteuid() == 0 ? "user root root;" : ""
        // One host: fastcgi_pass names its socket. Several: an upstream block lists them.
        let hosts = upstreams.map { $0.contains("/") && !$0.hasPrefix("unix:") ? "unix:" + $0 : $0 }
        let block = hosts.isEmpty ? "" : "    upstream intake_hosts {\n" + hosts.map { "        server \($0) max_fails=0;\n" }.joined() + "    }\n"
        if !hosts.isEmpty && !text.contains("@@UPSTREAM_BLOCK@@") {
            Startup.fail("the template \(template) has no @@UPSTREAM_BLOCK@@ for --upstream")
        }
        let values = [
            "HTTP_PORT": String(config.httpPort),
            "UPSTREAM": hosts.isEmpty ? address.nginxUpstream : "intake_hosts",
            "UPSTREAM_BLOCK": block,
            "PUBLIC_DIR": config.publicDirectory,
            "HOME": config.home,
            "STORAGE_DIR": config.storageDirectory,
            "USER_DIRECTIVE": user,
        ]
        var rendered = text
        for (name, value) in values { rendered = rendered.replacingOccurrences(of: "@@\(name)@@", with: value) }
        if let range = rendered.range(of: #"@@[A-Z_]+@@"#, options: .regularExpression) {
            Startup.fail("the template \(template) uses an unknown placeholder \(rendered[range])")
        }
        print(rendered, terminator: "")
    }
}
