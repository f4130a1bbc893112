package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Output is what a kind produces, which decides how the result is sent to the seller.
type Output string

const (
	OutputVideo Output = "video"
	OutputImage Output = "image"
)

// Kind is one thing a seller can order: a KIE model, its fixed inputs, a price and a prompt template.
type Kind struct {
	ID     string            `json:"id" yaml:"id"`
	Title  map[string]string `json:"title" yaml:"title"` // by language: "ru", "en"
	Model  string            `json:"model" yaml:"model"`
	Output Output            `json:"output" yaml:"output"`
	Price  int64             `json:"price" yaml:"price"`
	// Input holds the model's fixed fields (duration, aspect ratio …); prompt and image_urls are added per job.
	Input map[string]any `json:"input" yaml:"input"`
	// Prompt is the template sent to the model; {product} is replaced by the seller's text.
	Prompt string `json:"prompt" yaml:"prompt"`
	// ImageField is the input field that takes the photo URL list; default "image_urls".
	ImageField string `json:"image_field,omitempty" yaml:"image_field,omitempty"`
	// ExpectedSeconds is how long the model usually takes; default 4 minutes for a video and one
	// for an image. The bot refuses a job whose wait in the queue would leave it less than that
	// before its deadline.
	ExpectedSeconds int `json:"expected_seconds,omitempty" yaml:"expected_seconds,omitempty"`
}

// Expected is how long the model usually takes to make one result.
func (k Kind) Expected() time.Duration {
	switch {
	case k.ExpectedSeconds > 0:
		return time.Duration(k.ExpectedSeconds) * time.Second
	case k.Output == OutputVideo:
		return 4 * time.Minute
	}
	return time.Minute
}

// TitleIn returns the kind's title in lang, falling back to Russian and then to the id.
func (k Kind) TitleIn(lang string) string {
	if t := k.Title[lang]; t != "" {
		return t
	}
	if t := k.Title["ru"]; t != "" {
		return t
	}
	return k.ID
}

// PromptFor fills the prompt template with the seller's product text.
func (k Kind) PromptFor(product string) string {
	product = strings.TrimSpace(product)
	if product == "" {
		product = "the product in the photo"
	}
	return strings.ReplaceAll(k.Prompt, "{product}", product)
}

// TaskInput builds the KIE createTask input for one job.
func (k Kind) TaskInput(product, imageURL string) map[string]any {
	in := make(map[string]any, len(k.Input)+2)
	for key, v := range k.Input {
		in[key] = v
	}
	in["prompt"] = k.PromptFor(product)
	field := k.ImageField
	if field == "" {
		field = "image_urls"
	}
	if field == "image_url" {
		in[field] = imageURL
	} else {
		in[field] = []string{imageURL}
	}
	return in
}

// DefaultKinds is the catalogue used when NEUROCARDS_KINDS_FILE is not set.
func DefaultKinds() []Kind {
	return []Kind{
		{
			ID:     "video",
			Title:  map[string]string{"ru": "🎬 Видео товара", "en": "🎬 Product video"},
			Model:  "kling-2.6/image-to-video",
			Output: OutputVideo,
			Price:  10,
			Input:  map[string]any{"duration": "5", "sound": false},
			Prompt: "Professional product video for a marketplace listing (Wildberries, Ozon). " +
				"Product: {product}. Keep the product exactly as in the photo: shape, colours, logo and text. " +
				"Slow smooth camera orbit around the product, soft studio lighting, clean neutral background, " +
				"subtle reflections, shallow depth of field, premium commercial look. No people, no added text.",
		},
		{
			ID:     "card",
			Title:  map[string]string{"ru": "🖼 Карточка товара", "en": "🖼 Product card"},
			Model:  "google/nano-banana-edit",
			Output: OutputImage,
			Price:  3,
			Input:  map[string]any{"image_size": "3:4", "output_format": "png"},
			Prompt: "Create a vertical 3:4 marketplace product card (Wildberries, Ozon) from this photo. " +
				"Product: {product}. Keep the product exactly as it is: shape, colours, logo and text. " +
				"Place it on a clean, attractive background that suits the product, with soft studio light and a " +
				"gentle shadow. Leave calm space for text; add at most three short feature callouts taken from the " +
				"product description, in the language of the description, large and readable. No watermarks.",
		},
	}
}

var kindIDPattern = regexp.MustCompile(`^[a-z0-9_]{1,20}$`)

// LoadKinds reads a catalogue from a JSON or YAML file: a list of kinds, or {"kinds": [...]}.
func LoadKinds(path string) ([]Kind, error) { return loadList[Kind](path, "kinds") }

// loadList reads a JSON or YAML file (by extension) holding a list of T, bare or under key.
func loadList[T any](path, key string) ([]T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s file: %w", key, err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	list, err := parseList[T](data, ext == ".yaml" || ext == ".yml", key)
	if err != nil {
		return nil, fmt.Errorf("%s file %s: %w", key, path, err)
	}
	return list, nil
}

// parseList decodes a list of T, bare or under key, from JSON or YAML.
func parseList[T any](data []byte, isYAML bool, key string) ([]T, error) {
	unmarshal := json.Unmarshal
	if isYAML {
		unmarshal = yaml.Unmarshal
	}
	var list []T
	if err := unmarshal(data, &list); err == nil {
		return list, nil
	}
	var wrapped map[string][]T
	if err := unmarshal(data, &wrapped); err != nil {
		return nil, err
	}
	return wrapped[key], nil
}

// validateKinds returns one problem per line for a catalogue that cannot serve sellers.
func validateKinds(kinds []Kind) []string {
	var problems []string
	if len(kinds) == 0 {
		return []string{"the kinds catalogue is empty: at least one kind is needed"}
	}
	seen := map[string]bool{}
	for i, k := range kinds {
		name := k.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		switch {
		case !kindIDPattern.MatchString(k.ID):
			problems = append(problems, fmt.Sprintf("kind %s: id must be 1-20 of a-z, 0-9, _ (it goes into button data)", name))
		case seen[k.ID]:
			problems = append(problems, fmt.Sprintf("kind %s: id used twice", name))
		}
		seen[k.ID] = true
		if k.Model == "" {
			problems = append(problems, fmt.Sprintf("kind %s: model is empty", name))
		}
		if k.Output != OutputVideo && k.Output != OutputImage {
			problems = append(problems, fmt.Sprintf("kind %s: output must be %q or %q", name, OutputVideo, OutputImage))
		}
		if k.Price <= 0 || k.Price > MaxCredits {
			problems = append(problems, fmt.Sprintf("kind %s: price must be a positive number of credits, at most %d", name, MaxCredits))
		}
		if k.Title["ru"] == "" || k.Title["en"] == "" {
			problems = append(problems, fmt.Sprintf("kind %s: title needs both \"ru\" and \"en\"", name))
		}
		if !strings.Contains(k.Prompt, "{product}") {
			problems = append(problems, fmt.Sprintf("kind %s: prompt must contain {product}", name))
		}
	}
	return problems
}
