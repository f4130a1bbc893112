package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Pack is a bundle of credits a seller buys with Telegram Stars.
type Pack struct {
	ID      string `json:"id" yaml:"id"` // a-z 0-9 _, goes into button data and the invoice payload
	Credits int64  `json:"credits" yaml:"credits"`
	Stars   int    `json:"stars" yaml:"stars"` // the price in whole Stars (currency XTR)
}

// DefaultPacks are sold when neither NEUROCARDS_PACKS nor NEUROCARDS_PACKS_FILE is set.
func DefaultPacks() []Pack {
	return []Pack{
		{ID: "10", Credits: 10, Stars: 50},
		{ID: "50", Credits: 50, Stars: 225},
		{ID: "200", Credits: 200, Stars: 800},
	}
}

// Pack returns the pack with the given id.
func (c Config) Pack(id string) (Pack, bool) {
	for _, p := range c.Packs {
		if p.ID == id {
			return p, true
		}
	}
	return Pack{}, false
}

// maxStars is a sanity bound on one invoice; Telegram's own cap is lower and may change.
const maxStars = 100000

// ParsePacks reads the short form of NEUROCARDS_PACKS: "credits:stars" pairs separated by
// commas, e.g. "10:50,50:225,200:800". Each pack's id is its number of credits.
func ParsePacks(spec string) ([]Pack, error) {
	var out []Pack
	for _, item := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		c, s, ok := strings.Cut(item, ":")
		credits, err1 := strconv.ParseInt(strings.TrimSpace(c), 10, 64)
		stars, err2 := strconv.Atoi(strings.TrimSpace(s))
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not credits:stars", item)
		}
		out = append(out, Pack{ID: strconv.FormatInt(credits, 10), Credits: credits, Stars: stars})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no packs in %q", spec)
	}
	return out, nil
}

// LoadPacks reads packs from a JSON or YAML file: a list of packs, or {"packs": [...]}.
func LoadPacks(path string) ([]Pack, error) { return loadList[Pack](path, "packs") }

var packIDPattern = regexp.MustCompile(`^[a-z0-9_]{1,16}$`)

// validatePacks returns one problem per line for packs that cannot be sold.
func validatePacks(packs []Pack) []string {
	if len(packs) == 0 {
		return []string{"no credit packs to sell: NEUROCARDS_PACKS or NEUROCARDS_PACKS_FILE lists none"}
	}
	var problems []string
	seen := map[string]bool{}
	for i, p := range packs {
		name := p.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		switch {
		case !packIDPattern.MatchString(p.ID):
			problems = append(problems, fmt.Sprintf("pack %s: id must be 1-16 of a-z, 0-9, _ (it goes into button data)", name))
		case seen[p.ID]:
			problems = append(problems, fmt.Sprintf("pack %s: id used twice", name))
		}
		seen[p.ID] = true
		if p.Credits <= 0 || p.Credits > MaxCredits {
			problems = append(problems, fmt.Sprintf("pack %s: credits must be positive, at most %d", name, MaxCredits))
		}
		if p.Stars <= 0 || p.Stars > maxStars {
			problems = append(problems, fmt.Sprintf("pack %s: stars must be between 1 and %d", name, maxStars))
		}
	}
	return problems
}
