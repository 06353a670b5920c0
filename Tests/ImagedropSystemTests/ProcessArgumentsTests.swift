import Testing

@testable import ImagedropSystem

@Suite("ProcessArguments")
struct ProcessArgumentsTests {
    @Test("/proc/self/cmdline's NUL-ended fields, an empty argument and an unended last one kept")
    func split() {
        #expect(
            ProcessArguments.split(Array("imagedrop\0run\0--config\0a b.toml\0".utf8)) == [
                "imagedrop", "run", "--config", "a b.toml",
            ])
        #expect(ProcessArguments.split(Array("imagedrop\0\0x\0".utf8)) == ["imagedrop", "", "x"])
        #expect(ProcessArguments.split(Array("imagedrop\0rewritten".utf8)) == ["imagedrop", "rewritten"])
        #expect(ProcessArguments.split([]) == [])
    }

    @Test("The kernel's copy agrees with what Swift captured for this process")
    func agreesWithRuntime() {
        #expect(ProcessArguments.fromProcFilesystem() == CommandLine.arguments)
        #expect(ProcessArguments.current == CommandLine.arguments)
    }
}
