package store

import (
	"bytes"
	"path/filepath"
	"testing"
)

func TestInboundKeySurvivesRestartAndBackup(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.InboundKey()
	if err != nil || len(key) != 32 {
		t.Fatalf("key %x, err %v", key, err)
	}
	again, err := s.InboundKey()
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second call gave another key: %x vs %x (%v)", again, key, err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, _, err := WriteBackup(backup, s.Backup); err != nil {
		t.Fatal(err)
	}
	s.Close()

	for _, path := range []string{filepath.Join(dir, FileName), backup} {
		s, err := OpenFile(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.InboundKey()
		s.Close()
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("%s: key %x, want %x (%v)", path, got, key, err)
		}
	}

	other, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if k, _ := other.InboundKey(); bytes.Equal(k, key) {
		t.Error("two data files share a key")
	}
}
