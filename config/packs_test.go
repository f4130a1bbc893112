package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPacksFromEnvironment(t *testing.T) {
	env := map[string]string{"NEUROCARDS_PACKS": "5:30, 100:400"}
	c, err := Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packs) != 2 || c.Packs[0] != (Pack{ID: "5", Credits: 5, Stars: 30}) || c.Packs[1] != (Pack{ID: "100", Credits: 100, Stars: 400}) {
		t.Fatalf("packs: %+v", c.Packs)
	}
	if p, ok := c.Pack("100"); !ok || p.Stars != 400 {
		t.Errorf("Pack(100) = %+v, %v", p, ok)
	}
}

func TestDefaultPacks(t *testing.T) {
	c, err := Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packs) != 3 || c.Packs[0].Stars != 50 || c.Packs[1].Stars != 225 || c.Packs[2] != (Pack{ID: "200", Credits: 200, Stars: 800}) {
		t.Fatalf("default packs: %+v", c.Packs)
	}
}

func TestPacksFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "packs.yaml")
	yaml := "packs:\n  - {id: starter, credits: 10, stars: 45}\n  - {id: pro, credits: 300, stars: 1100}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NEUROCARDS_PACKS_FILE": path}
	c, err := Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packs) != 2 || c.Packs[1] != (Pack{ID: "pro", Credits: 300, Stars: 1100}) {
		t.Fatalf("packs: %+v", c.Packs)
	}
}

func TestBadPacksAreReported(t *testing.T) {
	for spec, want := range map[string]string{
		"10-50":      "credits:stars",
		"10:0":       "stars must be between",
		"0:50":       "credits must be positive",
		"10:50,10:9": "id used twice",
	} {
		env := map[string]string{"NEUROCARDS_PACKS": spec}
		_, err := Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NEUROCARDS_PACKS=%q: %v, want %q", spec, err, want)
		}
	}
}
