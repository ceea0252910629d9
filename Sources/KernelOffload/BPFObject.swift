import CIPTRTPProxyBPF
import Glibc
import IPTRTPProxyCore

/// A compiled eBPF object file (build/bpf/NAME.o) loaded into the kernel through libbpf: its
/// programs and maps by name. The object owns their file descriptors until `close()`; a program
/// attached to an interface stays there (with its maps) until detached, whatever happens to
/// this process.
///
/// Not thread-safe: its owner (an offload behind its own lock) calls it from one thread at a time.
final class BPFObject {
    private var object: OpaquePointer?
    /// The file it came from, for messages.
    let path: String

    /// Opens `path` and sets the maximum entries of the maps named in `mapSizes` (before load:
    /// the kernel sizes a map when it is created). Throws when the file is missing or is not
    /// an eBPF object.
    init(path: String, mapSizes: [String: UInt32] = [:]) throws {
        self.path = path
        BPFLog.install()
        guard let object = bpf_object__open_file(path, nil) else {
            throw KernelOffloadError.system("eBPF: cannot open \(path)", errno)
        }
        self.object = object
        for (name, size) in mapSizes {
            guard let map = bpf_object__find_map_by_name(object, name) else {
                close()
                throw KernelOffloadError("eBPF: \(path) has no map \(name)")
            }
            let rc = bpf_map__set_max_entries(map, size)
            if rc < 0 {
                close()
                throw KernelOffloadError.system("eBPF: size of map \(name)", -rc)
            }
        }
    }

    /// Loads the programs and creates the maps: the kernel's verifier runs here. Throws with its
    /// errno (EPERM without CAP_BPF/CAP_SYS_ADMIN, EINVAL or EACCES when the verifier refuses;
    /// libbpf logs the verifier's reasons at warning level).
    func load() throws {
        guard let object else { throw KernelOffloadError("eBPF: \(path) is closed") }
        let rc = bpf_object__load(object)
        if rc < 0 { throw KernelOffloadError.system("eBPF: load \(path)", -rc) }
    }

    /// The file descriptor of the loaded program `name`.
    func program(_ name: String) throws -> Int32 {
        guard let object, let program = bpf_object__find_program_by_name(object, name) else {
            throw KernelOffloadError("eBPF: \(path) has no program \(name)")
        }
        let fd = bpf_program__fd(program)
        guard fd >= 0 else { throw KernelOffloadError("eBPF: program \(name) of \(path) is not loaded") }
        return fd
    }

    /// The file descriptor of the created map `name`.
    func map(_ name: String) throws -> Int32 {
        guard let object, let map = bpf_object__find_map_by_name(object, name) else {
            throw KernelOffloadError("eBPF: \(path) has no map \(name)")
        }
        let fd = bpf_map__fd(map)
        guard fd >= 0 else { throw KernelOffloadError("eBPF: map \(name) of \(path) is not created") }
        return fd
    }

    /// Closes every descriptor (programs still attached stay in the kernel).
    func close() {
        if let object { bpf_object__close(object) }
        object = nil
    }

    deinit { close() }
}

/// One BPF map by its file descriptor: element operations with the kernel's errno.
struct BPFMap {
    /// The map's descriptor (owned by the `BPFObject`).
    let fd: Int32

    /// Writes `value` under `key`. `onlyNew`: fail with EEXIST when the key is there.
    /// E2BIG means the map is full.
    func update(key: [UInt8], value: [UInt8], onlyNew: Bool = false) -> Int32 {
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                bpf_map_update_elem(fd, k.baseAddress, v.baseAddress, onlyNew ? UInt64(BPF_NOEXIST) : UInt64(BPF_ANY))
            }
        }
        return rc < 0 ? -rc : 0
    }

    /// The value under `key` (`size` bytes), or nil when there is none.
    func lookup(key: [UInt8], size: Int) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: size)
        let rc = key.withUnsafeBytes { k in value.withUnsafeMutableBytes { v in bpf_map_lookup_elem(fd, k.baseAddress, v.baseAddress) } }
        return rc < 0 ? nil : value
    }

    /// Every element, read `chunk` at a time (BPF_MAP_LOOKUP_BATCH: a few system calls for the
    /// whole map instead of one per element), handed to `body` as key and value bytes. Throws
    /// with the kernel's errno.
    func forEach(keySize: Int, valueSize: Int, chunk: Int = 4096,
                 _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws {
        var keys = [UInt8](repeating: 0, count: keySize * chunk)
        var values = [UInt8](repeating: 0, count: valueSize * chunk)
        // The batch token: a bucket number for hash maps; room for a key covers every map type.
        var token = [UInt8](repeating: 0, count: max(keySize, 8))
        var next = [UInt8](repeating: 0, count: max(keySize, 8))
        var first = true
        try withBPFOptions(bpf_map_batch_opts.self) { options in
        while true {
            var count = UInt32(chunk)
            let rc = token.withUnsafeMutableBytes { t in
                next.withUnsafeMutableBytes { n in
                    keys.withUnsafeMutableBytes { k in
                        values.withUnsafeMutableBytes { v in
                            bpf_map_lookup_batch(fd, first ? nil : t.baseAddress, n.baseAddress, k.baseAddress, v.baseAddress, &count, options)
                        }
                    }
                }
            }
            let done = rc < 0 && -rc == ENOENT
            if rc < 0 && !done { throw KernelOffloadError.system("eBPF: read map", -rc) }
            keys.withUnsafeBytes { k in
                values.withUnsafeBytes { v in
                    for i in 0..<Int(count) {
                        body(UnsafeRawBufferPointer(rebasing: k[(i * keySize)..<((i + 1) * keySize)]),
                             UnsafeRawBufferPointer(rebasing: v[(i * valueSize)..<((i + 1) * valueSize)]))
                    }
                }
            }
            if done { return }
            swap(&token, &next)
            first = false
        }
        }
    }

    /// The values of an array map created with BPF_F_MMAPABLE, mapped into this process (shared:
    /// the program sees every store at once): `entries` values of `valueSize` bytes, each at a
    /// multiple of `valueSize` rounded up to 8 bytes, as the kernel lays them out. Unmap with
    /// `munmap(pointer, length)`. Throws with the errno when the kernel refuses.
    func mapShared(entries: Int, valueSize: Int) throws -> (pointer: UnsafeMutableRawPointer, length: Int, stride: Int) {
        let stride = (valueSize + 7) & ~7
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = (entries * stride + page - 1) / page * page
        let pointer = Glibc.mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let pointer, pointer != MAP_FAILED else { throw KernelOffloadError.system("eBPF: map an array into memory", errno) }
        return (pointer, length, stride)
    }

    /// Deletes `key`; returns 0 or the errno (ENOENT when it was not there).
    @discardableResult
    func delete(key: [UInt8]) -> Int32 {
        let rc = key.withUnsafeBytes { bpf_map_delete_elem(fd, $0.baseAddress) }
        return rc < 0 ? -rc : 0
    }
}

/// Runs `body` with a libbpf options struct (`struct bpf_*_opts`) whose every byte is zero, its
/// padding included, and whose `sz` (the first field of each) is set. libbpf refuses options
/// whose bytes past the fields it knows are not zero (EINVAL), and a Swift value's padding is
/// whatever was on the stack: seen in release builds, where `bpf_xdp_query` failed that way.
func withBPFOptions<Options, Result>(_ type: Options.Type, _ body: (UnsafeMutablePointer<Options>) throws -> Result) rethrows -> Result {
    let options = UnsafeMutablePointer<Options>.allocate(capacity: 1)
    defer { options.deallocate() }
    let raw = UnsafeMutableRawPointer(options)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Options>.stride)
    raw.storeBytes(of: MemoryLayout<Options>.size, as: Int.self)
    return try body(options)
}
