import Foundation
import Glibc
import ImagedropDaemon
import ImagedropPipeline
import ImagedropStore
import ImagedropSupport
import ImagedropSystem
import ImagedropTestSupport
import ImagesEmulator
import Testing

/// `[[source]]`: one daemon, one table, one pool, one budget; each file treated by its own source's rules.
@Suite("Sources end to end", .serialized)
struct SourcesTests {
    /// The fixture's inbox is the source `default` (top-level `[watch] paths`); `products` and `avatars` are
    /// `[[source]]` tables with their own ids, metadata, signed URLs, include patterns and after-upload actions.
    static func threeSources(_ fixture: DaemonFixture) throws {
        for folder in ["products", "avatars", "done-products"] {
            try FileManager.default.createDirectory(
                atPath: fixture.directory + "/" + folder, withIntermediateDirectories: true)
        }
        try fixture.writeConfig(
            settleMillis: 0,
            extra: """
                [images]
                id_prefix = "top/"
                metadata = { team = "top" }

                [http]
                listen = "127.0.0.1:0"

                [metrics]
                textfile = "\(fixture.directory)/imagedrop.prom"
                interval_s = 1

                [[source]]
                name = "products"
                paths = ["\(fixture.directory)/products"]
                id_prefix = "products/"
                metadata = { kind = "product" }
                on_success = "move"
                done_dir = "\(fixture.directory)/done-products"

                [[source]]
                name = "avatars"
                paths = ["\(fixture.directory)/avatars"]
                id = "cloudflare"
                require_signed_urls = true
                metadata = { kind = "avatar" }
                include = ["*.png"]
                on_success = "delete"
                """)
    }

    static func write(_ path: String, seed: UInt64) throws {
        let data = Data(SampleImages.png(width: 12, height: 12, seed: seed))
        try writeFile(atPath: path + ".part", contents: data)
        rename(path + ".part", path)
    }

    @Test("three sources: ids, metadata, signed URLs and after-upload actions each by the file's own source")
    func threeSourcesEachByItsOwnRules() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        try Self.threeSources(fixture)
        try fixture.start()
        let top = try fixture.drop("top.png", seed: 1)
        let product = fixture.directory + "/products/shoe.png"
        let avatar = fixture.directory + "/avatars/me.png"
        // Excluded by the avatars source's own include (the top level would take a .gif): no job at all.
        let ignored = fixture.directory + "/avatars/me.gif"
        try Self.write(ignored, seed: 9)
        try Self.write(product, seed: 2)
        try Self.write(avatar, seed: 3)
        #expect(fixture.waitForFinished(count: 3), "\(fixture.log)")
        #expect(fixture.counts()[.done] == 3)

        let jobs = try fixture.jobs()
        #expect(jobs.count == 3, "the .gif in avatars is not a candidate there: \(jobs.map(\.path.display))")
        let bySource = Dictionary(uniqueKeysWithValues: jobs.map { ($0.source, $0) })
        #expect(Set(bySource.keys) == ["default", "products", "avatars"])
        let images = Dictionary(uniqueKeysWithValues: fixture.emulator.storedImages().map { ($0.id, $0) })
        #expect(images.count == 3)

        let topJob = try #require(bySource["default"])
        let topJobID = try #require(topJob.imageID)
        let topImage = try #require(images[topJobID])
        #expect(topImage.id == "top/" + (topJob.sha256 ?? "?"))
        #expect(topImage.metaJSON.contains(#""team":"top""#) && !topImage.requireSignedURLs)
        #expect(FileManager.default.fileExists(atPath: top), "default keeps its files")

        let productJob = try #require(bySource["products"])
        let productJobID = try #require(productJob.imageID)
        let productImage = try #require(images[productJobID])
        #expect(productImage.id == "products/" + (productJob.sha256 ?? "?"))
        #expect(productImage.metaJSON.contains(#""kind":"product""#) && !productImage.metaJSON.contains("team"))
        // The move follows the committed `done` (link, then unlink): under load the test can look in between.
        #expect(fixture.waitUntil(seconds: 10) { !FileManager.default.fileExists(atPath: product) })
        #expect(
            FileManager.default.fileExists(atPath: fixture.directory + "/done-products/shoe.png"),
            "products moves to its done_dir")

        let avatarJob = try #require(bySource["avatars"])
        let avatarJobID = try #require(avatarJob.imageID)
        let avatarImage = try #require(images[avatarJobID])
        #expect(avatarImage.requireSignedURLs)
        #expect(avatarImage.id.count == 36, "Cloudflare-chosen: a UUID")
        #expect(avatarImage.metaJSON.contains(#""kind":"avatar""#) && avatarImage.metaJSON.contains("imagedrop_job"))
        #expect(
            fixture.waitUntil(seconds: 10) { !FileManager.default.fileExists(atPath: avatar) },
            "avatars deletes after upload")
        #expect(FileManager.default.fileExists(atPath: ignored))

        // Per-source status, human and JSON.
        let (code, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(code == 0)
        for name in ["default", "products", "avatars"] {
            #expect(
                text.contains("source \"\(name)\": 0 queued, 0 uploading, 0 retrying, 1 done, 0 failed (1 total)"),
                "\(text)")
        }
        let (_, json, _) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let sources = try #require(object["sources"] as? [String: [String: Int]])
        #expect(
            sources["products"] == ["queued": 0, "uploading": 0, "retrying": 0, "done": 1, "failed": 0, "total": 1])
        #expect(Set(sources.keys) == ["default", "products", "avatars"])

        // export and list by source; a name that matches no source is exit 65.
        let (exportCode, export, _) = try fixture.runCommand([
            "export", "--source", "products", "--format", "ndjson", "--config", fixture.configPath,
        ])
        #expect(exportCode == 0)
        #expect(export.split(separator: "\n").count == 1 && export.contains("shoe.png"), "\(export)")
        let (listCode, list, _) = try fixture.runCommand([
            "list", "--source", "avatars", "--config", fixture.configPath,
        ])
        #expect(listCode == 0 && list.split(separator: "\n").count == 1 && list.contains("me.png"), "\(list)")
        let (unknownCode, _, unknown) = try fixture.runCommand([
            "export", "--source", "nope", "--config", fixture.configPath,
        ])
        #expect(unknownCode == 65 && unknown.contains("names a source that does not exist"), "\(unknown)")

        // The metrics carry the source.
        #expect(
            fixture.waitUntil(seconds: 10) {
                let text = (try? String(contentsOfFile: fixture.directory + "/imagedrop.prom", encoding: .utf8)) ?? ""
                return text.contains(#"imagedrop_source_jobs{source="products",state="done"} 1.0"#)
                    && text.contains(#"imagedrop_source_uploads_total{source="avatars"} 1"#)
                    && text.contains(#"imagedrop_jobs{state="done"} 3.0"#)
            })
        // The HTTP endpoint: /status.json is the same object, the page and /metrics show each source.
        let base = "http://" + (try HTTPEndpointTests.address(fixture))
        let statusJSON = try HTTPEndpointTests.json(try HTTPEndpointTests.curl(base + "/status.json").body)
        #expect((statusJSON["sources"] as? [String: [String: Int]])?["avatars"]?["done"] == 1)
        let page = try HTTPEndpointTests.curl(base + "/").body
        #expect(page.contains(#"data-source="products""#) && page.contains(#"<td data-state="done">1</td>"#))
        #expect(
            page.contains("<img") && page.components(separatedBy: "<img").count == 3,
            "thumbnails for default and products, none for the signed avatars")
        let metrics = try HTTPEndpointTests.curl(base + "/metrics").body
        #expect(metrics.contains(#"imagedrop_source_jobs{source="avatars",state="done"} 1.0"#))
        #expect(fixture.stop() == 0)
    }

    @Test(
        "SIGHUP adds and removes sources: a removed source's jobs stay queued and are reported, and go on when it returns"
    )
    func reloadAddsAndRemovesSources() throws {
        let fixture = try DaemonFixture(settleMillis: 0)
        let extra = fixture.directory + "/extra"
        let late = fixture.directory + "/late"
        for folder in [extra, late] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        func configure(_ sources: [String]) throws {
            let tables = sources.map { name in
                "[[source]]\nname = \"\(name)\"\npaths = [\"\(fixture.directory)/\(name)\"]\nid_prefix = \"\(name)/\"\n"
            }
            try fixture.writeConfig(settleMillis: 0, extra: tables.joined(separator: "\n"))
        }
        func reload() throws {
            let reloads = fixture.log.components(separatedBy: "configuration reloaded").count
            kill(try #require(fixture.process).processIdentifier, SIGHUP)
            #expect(
                fixture.waitUntil(seconds: 10) {
                    fixture.log.components(separatedBy: "configuration reloaded").count > reloads
                })
        }

        try configure([])
        try fixture.start()
        // The CLI reads a config that names `extra`; the running daemon's does not: its jobs wait, untouched.
        try configure(["extra"])
        for index in 0..<3 { try Self.write(extra + "/e\(index).png", seed: UInt64(20 + index)) }
        let (queueCode, queued, queueError) = try fixture.runCommand(["enqueue", "--config", fixture.configPath, extra])
        #expect(queueCode == 0 && queued.contains("3 queued"), "\(queued) \(queueError)")

        // Reload: `late` is added (its folder armed and scanned), `extra` is still not configured.
        try Self.write(late + "/l0.png", seed: 30)
        try configure(["late"])
        try reload()
        try fixture.drop("inbox.png", seed: 31)
        #expect(fixture.waitUntil(seconds: 30) { (fixture.counts()[.done] ?? 0) == 2 }, "\(fixture.log)")
        #expect(
            try fixture.jobs().filter { $0.source == "late" }.map(\.state) == [.done],
            "an added source's folder is scanned")
        #expect(
            try fixture.jobs().filter { $0.source == "extra" }.allSatisfy { $0.state == .queued && $0.attempts == 0 })
        #expect(fixture.emulator.storedImages().allSatisfy { !$0.id.hasPrefix("extra/") })

        let (_, text, _) = try fixture.runCommand(["status", "--config", fixture.configPath])
        #expect(text.contains(#"source "extra": 3 queued"#) && text.contains("not configured"), "\(text)")
        let (_, json, _) = try fixture.runCommand(["status", "--json", "--config", fixture.configPath])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["unconfigured_sources"] as? [String] == ["extra"])
        #expect((object["sources"] as? [String: [String: Int]])?["extra"]?["queued"] == 3)

        // Reload: `extra` returns (its three jobs go on under its rules), `late` is removed (no longer watched).
        try configure(["extra"])
        try reload()
        #expect(fixture.waitUntil(seconds: 30) { (fixture.counts()[.done] ?? 0) == 5 }, "\(fixture.log)")
        let extraIDs = try fixture.jobs().filter { $0.source == "extra" }.compactMap(\.imageID)
        #expect(extraIDs.count == 3 && extraIDs.allSatisfy { $0.hasPrefix("extra/") })
        try Self.write(late + "/l1.png", seed: 32)
        try fixture.drop("inbox2.png", seed: 33)
        #expect(fixture.waitUntil(seconds: 30) { (fixture.counts()[.done] ?? 0) == 6 })
        #expect(
            try fixture.jobs().filter { $0.source == "late" }.count == 1, "a removed source's folder is not watched")
        #expect(fixture.log.contains("source removed"))
        #expect(fixture.stop() == 0)
    }

    @Test(
        "source config errors exit 78 with one line naming the source and key",
        arguments: [
            (
                "[[source]]\nname = \"a\"\npaths = [\"DIR/inbox\"]",
                #"source "a".paths: "DIR/inbox" is also watched by source "default""#
            ),
            (
                "[[source]]\nname = \"a\"\npaths = [\"DIR\"]",
                #"source "a".paths: "DIR" contains "DIR/inbox" of source "default""#
            ),
            ("[[source]]\nname = \"A!\"\npaths = [\"DIR/other\"]", #"source[1].name: "A!" must match [a-z0-9_-]+"#),
            (
                "[[source]]\nname = \"a\"\npaths = [\"DIR/other\"]\n[[source]]\nname = \"a\"\npaths = [\"DIR/third\"]",
                #"source[2].name: two sources are named "a""#
            ),
            (
                "[[source]]\nname = \"a\"\npaths = [\"DIR/other\"]\nsettle = 5",
                #"source "a".settle: unknown key (did you mean source "a".settle_ms?"#
            ),
            (
                "[[source]]\nname = \"default\"\npaths = [\"DIR/other\"]",
                #"source[1].name: the top-level [watch] paths already are the source "default""#
            ),
            ("[[source]]\nname = \"a\"\npaths = [\"DIR/missing\"]", #"source "a".paths: "DIR/missing" does not exist"#),
        ])
    func configErrors(source: String, expected: String) throws {
        let account = ConfigErrorTests.account
        let config =
            "[cloudflare]\naccount_id = \"\(account)\"\n[watch]\npaths = [\"DIR/inbox\"]\n[queue]\ndatabase = \"DIR/db\"\n"
            // Existing folders that neither nest with the inbox nor with each other.
            + source.replacingOccurrences(of: "DIR/other", with: "/usr/share").replacingOccurrences(
                of: "DIR/third", with: "/usr/lib")
        for command in ["run", "check"] {
            let (status, error) = try ConfigErrorTests().runBinary(config, command: command)
            #expect(status == 78, "\(command): exit \(status), stderr: \(error)")
            #expect(error.split(separator: "\n").count == 1, "\(command): \(error)")
            let directoryFree = error.replacingOccurrences(
                of: #"/[^"]*imagedrop-config-[^/"]*"#, with: "DIR", options: .regularExpression)
            #expect(directoryFree.contains(expected), "\(command): \(error)")
        }
    }
}

extension SourcesTests {
    @Test("URL jobs take their source from the *.urls file that queued them, or from enqueue --source")
    func urlJobsFollowTheirSource() throws {
        let fixture = try DaemonFixture(emulator: URLUploadTests.emulator(), settleMillis: 0)
        let products = fixture.directory + "/products"
        try FileManager.default.createDirectory(atPath: products, withIntermediateDirectories: true)
        try fixture.writeConfig(
            settleMillis: 0,
            extra: """
                [images]
                id_prefix = "top/"

                [[source]]
                name = "products"
                paths = ["\(products)"]
                id_prefix = "products/"
                metadata = { kind = "product" }
                """)
        let origin = try OriginServer(directory: fixture.directory + "/origin")
        try origin.serve("a.png", seed: 61)
        try origin.serve("b.png", seed: 62)
        try origin.serve("c.png", seed: 63)
        try fixture.start()
        let list = products + "/batch.urls"
        try writeFile(atPath: list + ".part", contents: Data("\(origin.baseURL)/files/a.png\n".utf8))
        rename(list + ".part", list)
        let (code, _, error) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--source", "products",
            "--url", "\(origin.baseURL)/files/b.png",
        ])
        #expect(code == 0, "\(error)")
        let (plainCode, _, _) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--url", "\(origin.baseURL)/files/c.png",
        ])
        #expect(plainCode == 0)
        let (badCode, _, bad) = try fixture.runCommand([
            "enqueue", "--config", fixture.configPath, "--source", "nope",
            "--url", "\(origin.baseURL)/files/c.png",
        ])
        #expect(badCode == 65 && bad.contains("names a source that does not exist"), "\(bad)")
        #expect(fixture.waitForFinished(count: 4), "\(fixture.log)")

        let urlJobs = try fixture.jobs().filter { $0.kind == .url }
        #expect(urlJobs.count == 3 && urlJobs.allSatisfy { $0.state == .done })
        #expect(
            Set(urlJobs.filter { $0.source == "products" }.map(\.path.display)) == [
                "\(origin.baseURL)/files/a.png", "\(origin.baseURL)/files/b.png",
            ])
        #expect(urlJobs.filter { $0.source == "default" }.map(\.path.display) == ["\(origin.baseURL)/files/c.png"])
        for job in urlJobs {
            let image = try #require(fixture.emulator.storedImages().first { $0.id == job.imageID })
            let prefix = job.source == "products" ? "products/" : "top/"
            #expect(image.id.hasPrefix(prefix), "\(image.id) for \(job.source)")
            #expect(image.metaJSON.contains("product") == (job.source == "products"))
        }
        #expect(fixture.stop() == 0)
    }
}
