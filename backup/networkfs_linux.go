package backup

import "syscall"

// networkFS names the filesystem holding dir if it is a network or FUSE one.
func networkFS(dir string) (string, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "", false
	}
	switch uint32(st.Type) {
	case 0x65735546:
		return "FUSE (for example a mounted storage bucket)", true
	case 0x6969:
		return "NFS", true
	case 0xFF534D42, 0xFE534D42, 0x517B:
		return "SMB/CIFS", true
	case 0x01021997:
		return "9P", true
	case 0x00C36400:
		return "Ceph", true
	}
	return "", false
}
