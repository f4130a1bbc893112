package config

import (
	"strings"
	"testing"
	"time"
)

// FuzzKindsFile: any kinds file either fails to load, is refused with problems, or gives a
// catalogue every part of the bot can use.
func FuzzKindsFile(f *testing.F) {
	f.Add([]byte(`[{"id":"clip","title":{"ru":"Клип","en":"Clip"},"model":"kling-2.6/image-to-video","output":"video","price":4,"prompt":"Clip of {product}","image_field":"image_url"}]`), false)
	f.Add([]byte(`{"kinds":[{"id":"card","title":{"ru":"К","en":"C"},"model":"m","output":"image","price":3,"input":{"image_size":"3:4"},"prompt":"{product}"}]}`), false)
	f.Add([]byte("kinds:\n  - id: video\n    title: {ru: \"В\", en: \"V\"}\n    model: kling\n    output: video\n    price: 10\n    input: {duration: \"5\", sound: false}\n    prompt: \"{product}\"\n"), true)
	f.Add([]byte("- id: Bad Id\n  price: 0\n  output: gif\n"), true)
	f.Add([]byte(`[{"id":"x","price":-9223372036854775808}]`), false)
	f.Add([]byte("a: &a [*a, *a]\n"), true)
	f.Add([]byte(`not json`), false)
	f.Fuzz(func(t *testing.T, data []byte, isYAML bool) {
		kinds, err := parseList[Kind](data, isYAML, "kinds")
		if err != nil || len(validateKinds(kinds)) > 0 {
			return
		}
		for _, k := range kinds {
			if !kindIDPattern.MatchString(k.ID) || k.Price <= 0 || k.Price > MaxCredits || k.Title["ru"] == "" || k.Title["en"] == "" {
				t.Fatalf("a kind that passed validation: %+v", k)
			}
			in := k.TaskInput("кеды", "https://files.example/p.jpg")
			if p, _ := in["prompt"].(string); !strings.Contains(p, "кеды") {
				t.Fatalf("kind %s: the prompt lost the product: %q", k.ID, p)
			}
		}
	})
}

// FuzzPacks: the packs variable and packs files either are refused or give packs that can be
// sold and credited.
func FuzzPacks(f *testing.F) {
	f.Add("10:50,50:225,200:800", []byte(`[{"id":"starter","credits":10,"stars":50}]`), false)
	f.Add("10:50;abc", []byte("packs:\n  - {id: big, credits: 1000000000, stars: 100000}\n"), true)
	f.Add("9223372036854775807:1", []byte(`{"packs":[{"id":"x","credits":9223372036854775807,"stars":-1}]}`), false)
	f.Add(" : ,", []byte("- id: 0\n"), true)
	f.Fuzz(func(t *testing.T, spec string, file []byte, isYAML bool) {
		check := func(what string, packs []Pack) {
			if len(validatePacks(packs)) > 0 {
				return
			}
			for _, p := range packs {
				if !packIDPattern.MatchString(p.ID) || p.Credits <= 0 || p.Credits > MaxCredits || p.Stars <= 0 || p.Stars > maxStars {
					t.Fatalf("%s: a pack that passed validation: %+v", what, p)
				}
			}
		}
		if packs, err := ParsePacks(spec); err == nil {
			check("NEUROCARDS_PACKS", packs)
		}
		if packs, err := parseList[Pack](file, isYAML, "packs"); err == nil {
			check("packs file", packs)
		}
	})
}

// envNames are the variables FuzzEnv sets, one at a time.
var envNames = []string{
	"NEUROCARDS_TELEGRAM_TOKEN", "NEUROCARDS_TELEGRAM_API_URL", "NEUROCARDS_ADMIN_ADDR", "NEUROCARDS_ADMIN_IDS",
	"NEUROCARDS_START_CREDITS", "NEUROCARDS_PACKS", "NEUROCARDS_JOB_TIMEOUT", "NEUROCARDS_KIE_POLL_MIN",
	"NEUROCARDS_TELEGRAM_POLL_TIMEOUT", "NEUROCARDS_GEN_ATTEMPTS", "NEUROCARDS_TELEGRAM_PER_CHAT",
}

// FuzzEnv: any value of a variable is accepted into a usable configuration or refused with a
// problem that names the variable, and a refused token is never repeated.
func FuzzEnv(f *testing.F) {
	for i, v := range []string{"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "http://127.0.0.1:9", "127.0.0.1:0", "7, 8",
		"1000000000", "10:50", "9223372037", "10ms", "2s", "0", "-1s"} {
		f.Add(uint8(i), v)
	}
	f.Add(uint8(0), "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PAL%zz")
	_, badToken := Load(env(map[string]string{"NEUROCARDS_TELEGRAM_TOKEN": "x"}))
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		name := envNames[int(which)%len(envNames)]
		c, err := Load(env(map[string]string{name: value}))
		if err != nil {
			// A pack is named by its id ("pack 0: …"), wherever it came from.
			if !strings.Contains(err.Error(), name) && (name != "NEUROCARDS_PACKS" || !strings.Contains(err.Error(), "pack ")) {
				t.Fatalf("%s=%q refused without naming it: %v", name, value, err)
			}
			if name == "NEUROCARDS_TELEGRAM_TOKEN" && err.Error() != badToken.Error() {
				t.Fatalf("a bad token is not refused in the same words as any other, so the error may repeat it: %v", err)
			}
			return
		}
		if c.TelegramToken != "" && !ValidTelegramToken(c.TelegramToken) {
			t.Fatalf("token %q accepted", c.TelegramToken)
		}
		if c.StartCredits < 0 || c.StartCredits > MaxCredits {
			t.Fatalf("start credits %d accepted", c.StartCredits)
		}
		tm := c.Timing
		for _, d := range []time.Duration{tm.JobTimeout, tm.KIEAttemptTimeout, tm.PollMin, tm.PollMax, c.Limits.TelegramPerChat} {
			if d < 0 {
				t.Fatalf("negative duration accepted from %s=%q: %+v", name, value, tm)
			}
		}
	})
}
