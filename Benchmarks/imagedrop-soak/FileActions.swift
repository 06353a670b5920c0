import Glibc
import ProcessHarness

/// The drop-folder side of the schedule. Every action updates the model with exactly what it did.
extension Soak {
    private static let folders = ["", "", "", "cam", "sub dir", "ünïcödé", "2024/05/31", "deep/er/still"]

    /// A fresh name: spaces, unicode, combining marks, and bytes that are not UTF-8.
    func freshName(_ content: Content) -> [UInt8] {
        counter += 1
        let n = counter
        let base: [UInt8]
        switch dice.int(0...6) {
        case 0: base = Array("photo \(n)".utf8)
        case 1: base = Array("café-\(n)".utf8)
        case 2: base = Array("日本語 \(n)".utf8)
        case 3: base = Array("e\u{301}tude-\(n)".utf8)
        case 4: base = [0x72, 0x61, 0x77, 0xFF, 0xFE, 0x2D] + Array(String(n).utf8)  // "raw\xff\xfe-n"
        default: base = Array("IMG_\(n)".utf8)
        }
        return base + Array(content.fileExtension.utf8)
    }

    func randomFolder() -> [UInt8] {
        let root = dice.chance(0.75) ? world.rootA : world.rootB
        let sub = dice.pick(Soak.folders)
        let folder = sub.isEmpty ? root : BytePaths.join(root, sub)
        BytePaths.makeDirectories(folder)
        return folder
    }

    func freshPath(_ content: Content) -> [UInt8] { BytePaths.join(randomFolder(), freshName(content)) }

    func someContent(badChance: Double = 0.1) -> Content {
        dice.chance(badChance) ? factory.bad(&dice) : factory.image(&dice)
    }

    /// Places `content` at `path`: in place (O_TRUNC, maybe slowly), or — whenever the daemon might move the
    /// file away meanwhile — written beside and renamed over, so the driver knows which bytes went where.
    func place(_ content: Content, at path: [UInt8], slow: Bool = false) {
        let moved = mayHaveMoved(path)
        if movesPossible || dice.chance(0.5) {
            let temporary = BytePaths.join(world.staging, "tmp-\(counter)")
            counter += 1
            BytePaths.write(content.bytes, to: temporary, chunks: slow ? 4 : 1, pauseMicros: slow ? 150_000 : 0)
            BytePaths.makeDirectories(BytePaths.parent(path))
            if BytePaths.rename(temporary, path) != 0 {
                _ = BytePaths.unlink(temporary)
                return
            }
            model.wrote(content, at: path, now: now, previousMayHaveMoved: moved)
        } else {
            if case .failed = BytePaths.write(
                content.bytes, to: path, chunks: slow ? dice.int(2...5) : 1,
                pauseMicros: slow ? UInt32(dice.int(100...400)) * 1000 : 0)
            {
                return
            }
            // Moves are off now; the old bytes were truncated here, or had been moved away before.
            model.wrote(content, at: path, now: now, previousMayHaveMoved: moved)
        }
    }

    func newFile() {
        let content = someContent()
        place(content, at: freshPath(content))
        count("new file")
    }

    /// Kept open across pauses longer than settle_ms: a slow camera or a network copy.
    func slowWrite() {
        let content = factory.image(&dice)
        let path = freshPath(content)
        if case .written = BytePaths.write(
            content.bytes, to: path, chunks: dice.int(3...6), pauseMicros: UInt32(dice.int(100...400)) * 1000)
        {
            model.wrote(content, at: path, now: now, previousMayHaveMoved: false)
        }
        count("slow chunked write")
    }

    func partThenRename() {
        let content = someContent()
        let path = freshPath(content)
        let part = path + Array(".part".utf8)
        BytePaths.write(content.bytes, to: part, chunks: dice.int(1...3), pauseMicros: 100_000)
        if BytePaths.rename(part, path) == 0 { model.wrote(content, at: path, now: now, previousMayHaveMoved: false) }
        count("NAME.part + rename")
    }

    /// A folder filled elsewhere, then renamed into the drop folder in one step.
    func folderMovedIn() {
        counter += 1
        let name = "batch \(counter)"
        let built = BytePaths.join(world.staging, name)
        var made: [([UInt8], Content)] = []
        for index in 0..<dice.int(1...6) {
            let content = someContent(badChance: 0.05)
            let relative = (index % 3 == 2 ? Array("inner/".utf8) : []) + freshName(content)
            let path = BytePaths.join(built, relative)
            BytePaths.makeDirectories(BytePaths.parent(path))
            BytePaths.write(content.bytes, to: path)
            made.append((relative, content))
        }
        let target = BytePaths.join(randomFolder(), name)
        guard BytePaths.rename(built, target) == 0 else {
            BytePaths.removeTree(built)
            return
        }
        for (relative, content) in made {
            model.wrote(content, at: BytePaths.join(target, relative), now: now, previousMayHaveMoved: false)
        }
        count("folder moved in")
    }

    /// mkdir -p a/b/c and files at once, before the watcher has had time to watch the new folders.
    func treeThenFiles() {
        counter += 1
        let top = BytePaths.join(randomFolder(), "tree-\(counter)")
        let deepest = BytePaths.join(top, "x/y/z")
        BytePaths.makeDirectories(deepest)
        for folder in [deepest, deepest, BytePaths.join(top, "x")] {
            let content = factory.image(&dice)
            let path = BytePaths.join(folder, freshName(content))
            if case .written = BytePaths.write(content.bytes, to: path) {
                model.wrote(content, at: path, now: now, previousMayHaveMoved: false)
            }
        }
        count("mkdir -p + files")
    }

    func sameBytesTwice() {
        let content = factory.image(&dice)
        for _ in 0..<2 {
            let path = freshPath(content)
            if case .written = BytePaths.write(content.bytes, to: path) {
                model.wrote(content, at: path, now: now, previousMayHaveMoved: false)
            }
        }
        count("same bytes, two names")
    }

    func regularPaths() -> [[UInt8]] { model.sortedPaths.filter { model.live[$0]?.content != nil } }

    /// A file waiting, uploading or done gets new bytes (mostly an image, sometimes not).
    func rewrite() {
        let paths = regularPaths()
        guard !paths.isEmpty else { return newFile() }
        // Recent files are the ones likely waiting or uploading.
        let path =
            dice.chance(0.5)
            ? paths.sorted { model.live[$0]!.writtenAt > model.live[$1]!.writtenAt }[
                min(paths.count - 1, dice.int(0...3))] : dice.pick(paths)
        place(someContent(badChance: 0.15), at: path, slow: dice.chance(0.3))
        count("rewrite")
    }

    func deleteOne() {
        let paths = model.sortedPaths
        guard !paths.isEmpty else { return }
        let path =
            dice.chance(0.6)
            ? paths.sorted { model.live[$0]!.writtenAt > model.live[$1]!.writtenAt }[0] : dice.pick(paths)
        model.deleted(path, errno: BytePaths.unlink(path), now: now)
        count("delete")
    }

    func badFile() {
        let content = factory.bad(&dice)
        place(content, at: freshPath(content))
        count("bad file (\(content.kind.rawValue))")
    }

    func fifo() {
        counter += 1
        let path = BytePaths.join(randomFolder(), "pipe \(counter).png")
        if BytePaths.mkfifo(path) { model.made(.fifo, at: path, now: now) }
        count("FIFO")
    }

    /// A symlink to an image outside the watched tree: must fail pre-flight, and its target never be sent.
    func symlinkOut() {
        let target = factory.image(&dice)
        counter += 1
        let targetPath = BytePaths.join(world.outside, "target-\(counter).png")
        BytePaths.write(target.bytes, to: targetPath)
        let link = BytePaths.join(randomFolder(), "link \(counter).png")
        if BytePaths.symlink(target: targetPath, at: link) {
            model.made(.symlinkOut, at: link, outsideTarget: target, now: now)
        }
        count("symlink out of the tree")
    }

    /// A sub-folder with everything in it removed, then made again with new files.
    func folderDeletedAndRecreated() {
        let candidates = Set(model.sortedPaths.map(BytePaths.parent)).filter { $0 != world.rootA && $0 != world.rootB }
            .sorted { $0.lexicographicallyPrecedes($1) }
        guard !candidates.isEmpty else { return }
        let folder = dice.pick(candidates)
        for path in model.paths(under: folder) { model.deleted(path, errno: BytePaths.unlink(path), now: now) }
        BytePaths.removeTree(folder)
        BytePaths.makeDirectories(folder)
        for _ in 0..<dice.int(1...3) {
            let content = factory.image(&dice)
            let path = BytePaths.join(folder, freshName(content))
            if case .written = BytePaths.write(content.bytes, to: path) {
                model.wrote(content, at: path, now: now, previousMayHaveMoved: false)
            }
        }
        count("folder deleted and recreated")
    }

    /// A camera's names again and again, under both roots: the same relative name in done_dir/failed_dir.
    func collidingName() {
        let content = someContent(badChance: 0.2)
        let root = dice.chance(0.5) ? world.rootA : world.rootB
        let folder = BytePaths.join(root, "DCIM")
        BytePaths.makeDirectories(folder)
        let path = BytePaths.join(
            folder, "IMG_000\(dice.int(1...3))" + (content.valid ? content.fileExtension : ".jpg"))
        place(content, at: path)
        count("colliding name")
    }
}
