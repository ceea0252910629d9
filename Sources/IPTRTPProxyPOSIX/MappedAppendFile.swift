import Glibc

/// An append-only file written through a shared memory mapping: an append is a copy into the
/// kernel's page cache, with no system call, and it survives the process's death all the same (the
/// pages are the kernel's). The file is grown ahead of the appends in steps, so between a crash and
/// the next open it may end in zero bytes after the last append; `open` finds the end again, and a
/// clean `close` cuts the file there.
///
/// The content is lines of text: the end is after the last newline before the zero tail. A line
/// that a crash cut in the middle of its copy has no newline, and the next append overwrites it.
/// Not thread-safe: its owner serialises the calls.
public final class MappedAppendFile {
    public let path: String
    /// -1 once closed.
    private var fd: Int32
    /// The mapping of the whole file (`capacity` bytes), nil while the file is empty.
    private var base: UnsafeMutableRawPointer?
    /// The file's size, which the mapping covers.
    private var capacity: Int
    /// Where the next append goes: the length of the content.
    public private(set) var end: Int

    /// The file grows by at least this much at a time.
    static let growthStep = 1 << 20

    /// Opens (creating with mode 0600) the file at `path`, finding the end of its content.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        self.fd = fd
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = SystemError("fstat \(path)")
            Glibc.close(fd)
            throw error
        }
        capacity = Int(status.st_size)
        end = 0
        do {
            if capacity > 0 { try map() }
        } catch {
            // Not `close()`: that would cut the file to an end not yet found.
            Glibc.close(fd)
            self.fd = -1
            throw error
        }
        end = base.map { MappedAppendFile.contentEnd(UnsafeRawBufferPointer(start: $0, count: capacity)) } ?? 0
        // A cut line (or anything after the last newline) is cleared, so that a reader never
        // joins it to the next append.
        if let base, end < capacity { memset(base + end, 0, capacity - end) }
    }

    deinit { close() }

    /// Where the content of `bytes` ends: after the last newline before the zero tail.
    static func contentEnd(_ bytes: UnsafeRawBufferPointer) -> Int {
        var last = bytes.count
        while last > 0 && bytes[last - 1] == 0 { last -= 1 }
        while last > 0 && bytes[last - 1] != 10 { last -= 1 }
        return last
    }

    /// Copies `bytes` to the end of the file, growing it when needed.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw SystemError("append \(path): closed", code: EBADF) }
        guard !bytes.isEmpty else { return }
        if end + bytes.count > capacity {
            let grown = max(end + bytes.count, capacity + max(MappedAppendFile.growthStep, capacity / 4))
            try grow(to: grown)
        }
        memcpy(base! + end, bytes.baseAddress!, bytes.count)
        end += bytes.count
    }

    /// Writes what was appended to the disk (data and the file's size), as `fdatasync` does for
    /// writes.
    public func sync() throws {
        guard fd >= 0 else { return }
        guard fdatasync(fd) == 0 else { throw SystemError("fdatasync \(path)") }
    }

    /// Cuts the file to its content and closes it. Further appends throw.
    public func close() {
        guard fd >= 0 else { return }
        unmap()
        _ = ftruncate(fd, off_t(end))
        Glibc.close(fd)
        fd = -1
        capacity = 0
    }

    private func grow(to size: Int) throws {
        // The pages already written stay in the page cache; the new mapping shows them again.
        guard ftruncate(fd, off_t(size)) == 0 else { throw SystemError("grow \(path) to \(size) bytes") }
        unmap()
        capacity = size
        try map()
    }

    private func map() throws {
        let address = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            capacity = 0
            throw SystemError("mmap \(path)")
        }
        base = address
    }

    private func unmap() {
        if let base { munmap(base, capacity) }
        base = nil
    }
}
