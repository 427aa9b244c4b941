package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"spaceauth/db"
)

// S3 keeps snapshots as objects under Prefix in an S3-compatible bucket
// (AWS S3, Cloudflare R2, Backblaze B2, MinIO, Hugging Face Storage
// Buckets). Files on their way in or out go through Temp, a local
// directory: snapshots are written and checked there, never in the bucket.
type S3 struct {
	Client *minio.Client
	Bucket string
	Prefix string // ends in "/" unless empty
	Keep   int
	Temp   string

	mu   sync.Mutex // one snapshot at a time; also guards last
	last time.Time
}

// S3Settings are the connection settings besides the URL.
type S3Settings struct {
	Endpoint       string // host[:port], or a URL; empty: AWS
	Region         string
	ForcePathStyle bool
	// AccessKey and SecretKey, from AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY; empty: anonymous.
	AccessKey, SecretKey, SessionToken string
}

// Bounds on one call to the bucket, so a slow target never holds a
// snapshot, a download or a start for long.
const (
	s3ListTimeout     = 30 * time.Second
	s3TransferTimeout = 5 * time.Minute
)

// NewS3 returns the target of rawURL, s3://BUCKET[/PREFIX].
func NewS3(rawURL string, keep int, temp string, set S3Settings) (*S3, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("%q is not s3://BUCKET/PREFIX", rawURL)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	endpoint, secure := set.Endpoint, true
	switch {
	case endpoint == "":
		endpoint = "s3.amazonaws.com"
	case strings.Contains(endpoint, "://"):
		e, err := url.Parse(endpoint)
		if err != nil || e.Host == "" {
			return nil, fmt.Errorf("S3_ENDPOINT %q is not a host or URL", endpoint)
		}
		endpoint, secure = e.Host, e.Scheme != "http"
	}
	creds := credentials.NewStaticV4(set.AccessKey, set.SecretKey, set.SessionToken)
	lookup := minio.BucketLookupAuto
	if set.ForcePathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: set.Region, BucketLookup: lookup})
	if err != nil {
		return nil, err
	}
	return &S3{Client: client, Bucket: u.Host, Prefix: prefix, Keep: keep, Temp: temp}, nil
}

// String names the bucket and prefix.
func (s *S3) String() string { return "s3://" + s.Bucket + "/" + s.Prefix }

// Create writes a snapshot of store to Temp, uploads it, then deletes the
// oldest objects beyond Keep.
func (s *S3) Create(ctx context.Context, store *db.Store) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, now := nextName(s.last)
	if err := os.MkdirAll(s.Temp, 0o750); err != nil {
		return Info{}, err
	}
	local := filepath.Join(s.Temp, name)
	if err := WriteSnapshot(ctx, store, local); err != nil {
		return Info{}, err
	}
	defer os.Remove(local)
	ctx, cancel := context.WithTimeout(ctx, s3TransferTimeout)
	defer cancel()
	up, err := s.Client.FPutObject(ctx, s.Bucket, s.Prefix+name, local, minio.PutObjectOptions{ContentType: "application/vnd.sqlite3"})
	if err != nil {
		return Info{}, fmt.Errorf("upload %s to %s: %w", name, s, err)
	}
	s.last = now
	if err := s.prune(ctx); err != nil {
		return Info{}, fmt.Errorf("snapshot %s uploaded, but removing old ones failed: %w", name, err)
	}
	return Info{Name: name, Size: up.Size, CreatedAt: now}, nil
}

// List returns the snapshots in the bucket, newest first.
func (s *S3) List() ([]Info, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s3ListTimeout)
	defer cancel()
	return s.list(ctx)
}

func (s *S3) list(ctx context.Context) ([]Info, error) {
	var found []Info
	for obj := range s.Client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Prefix: s.Prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s: %w", s, obj.Err)
		}
		name := strings.TrimPrefix(obj.Key, s.Prefix)
		if !strings.Contains(name, "/") { // not in a folder below the prefix
			found = append(found, Info{Name: name, Size: obj.Size})
		}
	}
	return snapshots(found), nil
}

func (s *S3) prune(ctx context.Context) error {
	list, err := s.list(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := s.Keep; i < len(list); i++ {
		errs = append(errs, s.Client.RemoveObject(ctx, s.Bucket, s.Prefix+list[i].Name, minio.RemoveObjectOptions{}))
	}
	return errors.Join(errs...)
}

// LastAt is when the newest snapshot was taken, if there is one.
func (s *S3) LastAt() (time.Time, bool) { return lastAt(s.List()) }

// Open downloads the snapshot called name to Temp and opens it; the file
// is unlinked at once, so it goes when it is closed.
func (s *S3) Open(name string) (*os.File, fs.FileInfo, error) {
	if _, ok := parseName(name); !ok {
		return nil, nil, ErrNoSnapshot
	}
	ctx, cancel := context.WithTimeout(context.Background(), s3TransferTimeout)
	defer cancel()
	local, err := s.fetch(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(local)
	f, err := os.Open(local)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// fetch downloads snapshot name into a new file in Temp.
func (s *S3) fetch(ctx context.Context, name string) (string, error) {
	if err := os.MkdirAll(s.Temp, 0o750); err != nil {
		return "", err
	}
	local, err := os.CreateTemp(s.Temp, ".download-*")
	if err != nil {
		return "", err
	}
	local.Close()
	err = s.Client.FGetObject(ctx, s.Bucket, s.Prefix+name, local.Name(), minio.GetObjectOptions{})
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		err = ErrNoSnapshot
	}
	if err != nil {
		os.Remove(local.Name())
		return "", err
	}
	return local.Name(), nil
}

// RestoreNewest downloads the snapshots, newest first, until one passes
// the checks, and copies it to dbPath. A bucket that cannot be listed is an
// error: the server must not start empty because the target was away.
func (s *S3) RestoreNewest(ctx context.Context, logger *slog.Logger, dbPath string) (Info, db.FileReport, bool, error) {
	list, err := s.List()
	if err != nil {
		return Info{}, db.FileReport{}, false, err
	}
	for _, snap := range list {
		fetchCtx, cancel := context.WithTimeout(ctx, s3TransferTimeout)
		local, err := s.fetch(fetchCtx, snap.Name)
		cancel()
		if err != nil {
			return Info{}, db.FileReport{}, false, fmt.Errorf("download %s from %s: %w", snap.Name, s, err)
		}
		report, err := db.CheckFile(ctx, local)
		if err != nil {
			os.Remove(local)
			logger.Warn("skipping a snapshot that cannot be restored", "snapshot", s.String()+snap.Name, "err", err)
			continue
		}
		err = copyInto(local, dbPath)
		os.Remove(local)
		if err != nil {
			return Info{}, db.FileReport{}, false, fmt.Errorf("restore %s: %w", snap.Name, err)
		}
		return snap, report, true, nil
	}
	return Info{}, db.FileReport{}, false, nil
}
