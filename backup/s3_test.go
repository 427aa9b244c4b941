package backup_test

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/backup"
)

// newS3 is a target on an in-process S3-compatible server.
func newS3(t *testing.T, keep int) *backup.S3 {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket("backups"))
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	target, err := backup.NewS3("s3://backups/space/", keep, t.TempDir(), backup.S3Settings{
		Endpoint: srv.URL, ForcePathStyle: true, Region: "us-east-1", AccessKey: "id", SecretKey: "secret",
	})
	require.NoError(t, err)
	return target
}

func TestS3TargetKeepsRestoresAndServesSnapshots(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	target := newS3(t, 2)
	store := openStore(t, filepath.Join(t.TempDir(), "auth.db"))
	for _, id := range []string{"first", "second", "third"} {
		require.NoError(t, addUser(ctx, store, id))
		_, err := target.Create(ctx, store)
		require.NoError(t, err)
	}
	list, err := target.List()
	require.NoError(t, err)
	require.Len(t, list, 2, "BACKUP_KEEP applies in the bucket too")

	// A corrupt newest object, and one named from the far future, are passed over.
	corrupt := "spaceauth-" + time.Now().Add(time.Minute).UTC().Format("20060102T150405.000Z") + ".db"
	future := "spaceauth-" + time.Now().Add(48*time.Hour).UTC().Format("20060102T150405.000Z") + ".db"
	for _, name := range []string{corrupt, future} {
		_, err = target.Client.PutObject(ctx, "backups", "space/"+name, strings.NewReader("not a database"), 14, minio.PutObjectOptions{})
		require.NoError(t, err)
	}
	restored := filepath.Join(t.TempDir(), "restored", "auth.db")
	snap, report, ok, err := target.RestoreNewest(ctx, quiet, restored)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, list[0].Name, snap.Name)
	assert.Equal(t, 3, report.Users)
	assert.Equal(t, map[string]bool{"first": true, "second": true, "third": true}, userIDs(t, restored))

	f, info, err := target.Open(list[0].Name)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, list[0].Size, info.Size())
	_, _, err = target.Open("spaceauth-20200101T000000.000Z.db")
	assert.ErrorIs(t, err, backup.ErrNoSnapshot)
	_, _, err = target.Open("../auth.db")
	assert.ErrorIs(t, err, backup.ErrNoSnapshot)
}

// TestUnreachableS3TargetIsAnErrorAtRestore: start-up must not serve an
// empty database because the bucket was away.
func TestUnreachableS3TargetIsAnErrorAtRestore(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	srv.Close() // nothing listens there now
	target, err := backup.NewS3("s3://backups", 2, t.TempDir(), backup.S3Settings{Endpoint: srv.URL, ForcePathStyle: true, Region: "us-east-1"})
	require.NoError(t, err)
	_, _, _, err = target.RestoreNewest(t.Context(), quiet, filepath.Join(t.TempDir(), "auth.db"))
	assert.Error(t, err)
}
