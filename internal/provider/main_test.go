package provider

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// stateDir holds every working directory terraform-plugin-testing creates
// (TF_ACC_TEMP_DIR), so that a check can read the state files themselves,
// private state included, as `terraform state pull` would print them.
var stateDir string

func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC_TEMP_DIR") == "" {
		dir, err := os.MkdirTemp("", "isahitlab-acc-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		stateDir = dir
		_ = os.Setenv("TF_ACC_TEMP_DIR", dir)
	}
	// Paces learned from the emulators' 429s stay out of the user's cache.
	paceDir, err := os.MkdirTemp("", "isahitlab-pace-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Setenv(envPaceDir, paceDir)
	code := m.Run()
	_ = os.RemoveAll(paceDir)
	if stateDir != "" {
		_ = os.RemoveAll(stateDir)
	}
	if providerDir != "" {
		_ = os.RemoveAll(providerDir)
	}
	os.Exit(code)
}

var privateField = regexp.MustCompile(`"private":\s*"([A-Za-z0-9+/=]*)"`)

// stateFilesLack fails when any state file of any running test holds one
// of the secrets, in clear or in private state (base64, possibly nested).
// Secrets are unique per test, so a hit is always a leak.
func stateFilesLack(secrets ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if stateDir == "" {
			return fmt.Errorf("TF_ACC_TEMP_DIR was set by the caller: the state files cannot be found")
		}
		files := 0
		err := filepath.WalkDir(stateDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), "terraform.tfstate") {
				return nil //nolint:nilerr // a directory removed by a finished test
			}
			raw, rerr := os.ReadFile(path)
			if rerr != nil {
				return nil //nolint:nilerr // removed meanwhile
			}
			files++
			for _, s := range secrets {
				if stateHolds(string(raw), s) {
					return fmt.Errorf("state file %s holds a write-only secret", path)
				}
			}
			return nil
		})
		if err == nil && files == 0 {
			err = fmt.Errorf("no state file found under %s", stateDir)
		}
		return err
	}
}

// stateHolds reports whether a state file's text holds secret, in clear or
// in private state.
func stateHolds(state, secret string) bool {
	texts := []string{state}
	for _, m := range privateField.FindAllStringSubmatch(state, -1) {
		texts = append(texts, decodeNested(m[1])...)
	}
	for _, text := range texts {
		if strings.Contains(text, secret) {
			return true
		}
	}
	return false
}

// decodeNested base64-decodes s, and again whatever decodes, a few levels
// deep: private state is base64 of JSON whose values may be base64 again.
func decodeNested(s string) []string {
	var out []string
	for range 3 {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			break
		}
		out = append(out, string(b))
		s = string(b)
		if m := regexp.MustCompile(`"([A-Za-z0-9+/=]{8,})"`).FindAllStringSubmatch(s, -1); len(m) > 0 {
			for _, sub := range m {
				out = append(out, decodeNested(sub[1])...)
			}
		}
	}
	return out
}
