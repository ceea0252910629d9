import Glibc

/// An append-only file written through a shared memory mapping: an append is a copy into the
/// kernel's page cache, with no system call, and it survives the process's death all the same (the
/// pages are the kernel's). The file is grown ahead of the appends in steps, so between a crash and
/// the next open it may end in zero bytes after the last append; `open` finds the end again, and a
/// clean `close` cuts the file there.
///
/// The content is lines of text: the end is after the last newline before the zero tail. A line
/// that a crash cut in the middle of its copy has no newline, and the next append overwrites it.
/// Where the file cannot be mapped (a file system without shared mappings), appends are written
/// with `pwrite` instead. Not thread-safe: its owner serialises the calls.
public final class MappedAppendFile {
    public let path: String
    /// -1 once closed.
    private var fd: Int32
    /// The mapping of the whole file (`capacity` bytes); nil while the file is empty, or when
    /// appends are written instead.
    private var base: UnsafeMutableRawPointer?
    /// The file could not be mapped: appends are written with `pwrite`, and nothing is grown ahead.
    public private(set) var writesInstead = false
    /// The file's size: the content and the zeros grown ahead of it.
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
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = SystemError("fstat \(path)")
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        capacity = Int(status.st_size)
        end = 0
        if capacity > 0 {
            base = MappedAppendFile.map(fd, capacity)
            if let base {
                end = MappedAppendFile.contentEnd(UnsafeRawBufferPointer(start: base, count: capacity))
            } else {
                writesInstead = true
                let whole: [UInt8]
                do { whole = try FileIO.read(path) } catch {
                    Glibc.close(fd)
                    self.fd = -1
                    throw error
                }
                end = whole.withUnsafeBytes { MappedAppendFile.contentEnd($0) }
                capacity = whole.count
            }
        }
        // A cut line (or anything after the last newline) is cleared, so that a reader never
        // joins it to the next append.
        if end < capacity {
            if let base {
                memset(base + end, 0, capacity - end)
            } else {
                _ = ftruncate(fd, off_t(end))
                capacity = end
            }
        }
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
        if !writesInstead && end + bytes.count > capacity {
            let needed = (end + bytes.count + 4095) & ~4095
            do {
                try grow(to: max(needed, capacity + max(MappedAppendFile.growthStep, capacity / 4)))
            } catch let e as SystemError where e.code == ENOSPC || e.code == EFBIG || e.code == EDQUOT {
                // A nearly full disk still takes what fits: grown by the page that holds it.
                try grow(to: needed)
            }
        }
        if let base {
            memcpy(base + end, bytes.baseAddress!, bytes.count)
        } else {
            try writeAll(bytes, at: end)
            capacity = end + bytes.count
        }
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

    /// Grows the file to `size` bytes by writing zeros, not by `ftruncate`: a page of a sparse
    /// file gets its disk block only when the mapping first writes it, and a full disk then
    /// kills the process with SIGBUS. Written zeros have their blocks, so a full disk is this
    /// call's error (the append fails and says so) and never a signal.
    private func grow(to size: Int) throws {
        do {
            var offset = capacity
            while offset < size {
                let n = min(MappedAppendFile.zeros.count, size - offset)
                try MappedAppendFile.zeros.withUnsafeBytes { try writeAll(UnsafeRawBufferPointer(rebasing: $0[..<n]), at: offset) }
                offset += n
            }
        } catch let e as SystemError {
            _ = ftruncate(fd, off_t(capacity))
            throw SystemError("grow \(path) to \(size) bytes", code: e.code)
        }
        // The pages already written stay in the page cache; the new mapping shows them again.
        unmap()
        capacity = size
        base = MappedAppendFile.map(fd, capacity)
        if base == nil {
            // Appends are written from now on; the zeros grown ahead are not content.
            writesInstead = true
            _ = ftruncate(fd, off_t(end))
            capacity = end
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var written = 0
        while written < bytes.count {
            let n = retryingOnInterrupt { pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(offset + written)) }
            guard n > 0 else {
                let error = SystemError("write \(path)", code: n < 0 ? errno : ENOSPC)
                _ = ftruncate(fd, off_t(offset))
                throw error
            }
            written += n
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    /// A shared read-write mapping of the first `size` bytes of `fd`, nil where the file cannot be mapped.
    private static func map(_ fd: Int32, _ size: Int) -> UnsafeMutableRawPointer? {
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { return nil }
        return address
    }

    private func unmap() {
        if let base { munmap(base, capacity) }
        base = nil
    }
}
