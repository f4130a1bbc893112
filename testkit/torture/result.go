package torture

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"neurocards/messages"
	"neurocards/store"
	"neurocards/testkit/kiefake"
	"neurocards/texts"
)

// Result is what a run measured. Problems lists every number that must be zero and is not.
type Result struct {
	Seed    uint64
	Sellers int

	Jobs, Done, Failed, InFlight int

	Kills, Terms int
	// StagesHit counts the kills whose snapshot found at least one job in the stage; JobsHit
	// counts the jobs found there over all kills.
	StagesHit, JobsHit map[messages.Stage]int
	SlowestStop        time.Duration // of the graceful restarts
	FinalStop          time.Duration
	SlowStops          int // graceful stops over 10 s

	Lost []string // every job not ended, not told to its seller, or not accounted for in credits
	// Waiting lists sellers left without an answer: a step never answered, or a job never heard of.
	Waiting []string
	// Unordered lists sellers with more jobs than they ordered: an update handled twice.
	Unordered []string

	CheckExit   int          // exit status of `neurocards check`
	CheckOutput string       // what it printed
	Check       store.Report // its --json report

	// Bursts: sellers confirming at once, the bot killed as KIE answered the burst's last
	// createTask (BurstKills of them), and what each cost.
	Bursts       []BurstResult
	BurstKills   int
	MaxRecreated int // tasks a burst may create again (Options.MaxRecreated); negative: no bound

	Tasks           int      // KIE tasks created
	RepeatedTasks   []string // tasks created for a job whose task id was already persisted
	UnsavedTasks    int      // tasks whose id a kill cut off before it was saved: paid, unavoidable
	UnsavedByTerm   int      // … of them, cut off by a graceful stop, which should have let them persist
	UnmappedTasks   int      // tasks that name no job's photo
	Deliveries      int      // results sent successfully, duplicates included
	Duplicates      int      // sends beyond the first, per job
	DupsExplained   int      // … with a kill between the earlier send and its record
	DupsUnexplained []string // … without one

	Nudges       int      // steps sellers repeated because an answer was lost to a kill
	StaleStatus  []string // ended jobs whose status message does not say how they ended
	Resent       int64    // earlier updates Telegram delivered again
	Backups      int64
	BackupErrors []string
	BotExits     []string
	SecretLeaks  []string
	DataRaces    int // reports of the race detector in the bot's output, when built with -race
	RunError     string

	Elapsed                time.Duration
	WorkDir, DataDir, Logs string
}

// analyse reads the final data, runs `neurocards check` and compares both with what the fakes saw.
func (r *run) analyse(ctx context.Context, res *Result) error {
	final, err := readJobs(r.dataDir)
	if err != nil {
		return fmt.Errorf("torture: reading the final data: %w", err)
	}
	users, err := readUsers(r.dataDir)
	if err != nil {
		return fmt.Errorf("torture: reading the final data: %w", err)
	}
	r.runCheck(ctx, res)

	res.StagesHit, res.JobsHit = map[messages.Stage]int{}, map[messages.Stage]int{}
	for _, in := range r.interruptions {
		if in.graceful {
			res.Terms++
			res.SlowestStop = max(res.SlowestStop, in.stop)
			if in.stop > 10*time.Second {
				res.SlowStops++
			}
			continue
		}
		if in.burst > 0 {
			res.BurstKills++
			continue
		}
		res.Kills++
		for _, st := range inFlightStages(in.jobs) {
			res.StagesHit[st]++
		}
		for _, j := range in.jobs {
			if !j.Terminal() {
				res.JobsHit[j.Stage]++
			}
		}
	}
	if res.FinalStop > 10*time.Second {
		res.SlowStops++
	}
	res.BotExits = append(res.BotExits, r.exits...)
	res.Backups = r.backups.Load()
	res.Resent = r.resent.Load()
	res.BackupErrors = r.backupErrors

	sends := r.deliveries(res)
	r.lost(res, final, users, sends)
	tasks := r.kie.Tasks()
	countTasks(res, tasks, r.interruptions, final)
	countBursts(res, r.bursts, tasks, final)
	countDuplicates(res, sends, r.interruptions)
	r.leaks(res)
	return nil
}

// runCheck runs the built `neurocards check` on the data directory, as an operator would.
func (r *run) runCheck(ctx context.Context, res *Result) {
	human := exec.CommandContext(ctx, r.opt.Binary, "check", "--data-dir", r.dataDir)
	human.Env = []string{}
	out, err := human.CombinedOutput()
	res.CheckOutput = string(out)
	res.CheckExit = ExitCode(err)

	machine := exec.CommandContext(ctx, r.opt.Binary, "check", "--data-dir", r.dataDir, "--json")
	machine.Env = []string{}
	raw, _ := machine.Output()
	var doc struct {
		Report store.Report `json:"report"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		res.Check.Violations = append(res.Check.Violations, "neurocards check --json printed no report: "+err.Error())
		if res.CheckExit == 0 {
			res.CheckExit = -1
		}
		return
	}
	res.Check = doc.Report
}

// send is one successful upload of a job's result to its seller.
type send struct {
	chat int64
	at   time.Time // when the request reached Telegram
}

// deliveries collects, per job, the successful sendVideo/sendPhoto/sendDocument of <job id>.<ext>.
func (r *run) deliveries(res *Result) map[uint64][]send {
	out := map[uint64][]send{}
	for _, c := range r.tg.Calls("") {
		if !isFileMethod(c.Method) || c.Status != 200 || len(c.Files) == 0 {
			continue
		}
		id, ok := jobOfFile(c.Files[0].Name)
		if !ok {
			continue
		}
		out[id] = append(out[id], send{chat: c.ChatID, at: c.At})
		res.Deliveries++
	}
	for _, s := range out {
		sort.Slice(s, func(a, b int) bool { return s[a].at.Before(s[b].at) })
	}
	return out
}

// lost finds what a crash may never cost a seller: a job that never ended, a result or a failure
// the seller never heard of, credits not where they should be.
func (r *run) lost(res *Result, final map[uint64]messages.Job, users []store.User, sends map[uint64][]send) {
	told := map[uint64]bool{}              // failure messages, by job
	statuses := map[int64]map[int]string{} // chat → message id → text now
	for _, sl := range r.sellers {
		statuses[sl.id] = map[int]string{}
		for _, m := range sl.s.BotMessages() {
			if id, ok := failedJob(m); ok {
				told[id] = true
			}
			statuses[sl.id][m.ID] = m.Text
		}
		res.Nudges += sl.nudges
		if sl.err != nil {
			res.Waiting = append(res.Waiting, sl.err.Error())
		}
	}
	captured := map[int64]int64{}
	perSeller := map[int64]int{}
	for _, id := range sortedIDs(final) {
		j := final[id]
		res.Jobs++
		perSeller[j.UserID]++
		switch j.Outcome {
		case messages.OutcomeDone:
			res.Done++
			captured[j.UserID] += j.Price
			if len(sends[id]) == 0 {
				res.Lost = append(res.Lost, fmt.Sprintf("job %d (seller %d): done and paid for, but no result reached the seller", id, j.UserID))
			}
		case messages.OutcomeFailed:
			res.Failed++
			if !told[id] && (j.Failure == nil || j.Failure.Reason != messages.ReasonBlocked) {
				res.Lost = append(res.Lost, fmt.Sprintf("job %d (seller %d): failed (%s), but the seller was never told", id, j.UserID, failureOf(j)))
			}
		default:
			res.InFlight++
			res.Lost = append(res.Lost, fmt.Sprintf("job %d (seller %d): still %s at the end", id, j.UserID, j.Stage))
		}
		if j.Terminal() && j.StatusMessageID != 0 {
			key := texts.StatusDone
			if j.Outcome == messages.OutcomeFailed {
				key = texts.StatusFailed
			}
			if want := texts.T(j.Lang, key); !strings.Contains(statuses[j.ChatID][j.StatusMessageID], want) {
				res.StaleStatus = append(res.StaleStatus, fmt.Sprintf("job %d (seller %d): %s, but its status message still says %q",
					id, j.UserID, j.Outcome, statuses[j.ChatID][j.StatusMessageID]))
			}
		}
	}
	for _, sl := range r.sellers {
		if n := perSeller[sl.id]; n > sl.jobs && sl.err == nil {
			res.Unordered = append(res.Unordered, fmt.Sprintf("seller %d: %d jobs in the data for %d orders", sl.id, n, sl.jobs))
		}
	}
	for _, u := range users {
		want := startCredits - captured[u.ID]
		if u.Balance != want || u.Held != 0 {
			res.Lost = append(res.Lost, fmt.Sprintf("seller %d: balance %d with %d held, want %d with none held (start %d − delivered %d)",
				u.ID, u.Balance, u.Held, want, startCredits, captured[u.ID]))
		}
	}
}

func failureOf(j messages.Job) string {
	if j.Failure == nil {
		return "no reason"
	}
	return string(j.Failure.Class) + "/" + string(j.Failure.Reason)
}

var photoOfJob = regexp.MustCompile(`job-(\d+)\.`)

// countTasks maps every KIE task to its job through the photo it names (job-<id>.jpg) and finds tasks
// created after a kill for a job whose task id the snapshot of that kill already had: the resume
// should have polled that task instead of paying for another. A task created after its job's
// previous task failed at KIE is a retry, not a repeat.
func countTasks(res *Result, all []kiefake.Task, interruptions []interruption, final map[uint64]messages.Job) {
	res.Tasks = len(all)
	state := map[string]string{}
	byJob := map[uint64][]int{}
	for i, t := range all {
		state[t.ID] = t.State
		id, ok := jobOfTask(t.Input)
		if !ok {
			res.UnmappedTasks++
			continue
		}
		byJob[id] = append(byJob[id], i)
	}
	seen := map[string]bool{} // task ids some snapshot or the final data holds
	for _, j := range final {
		seen[j.TaskID] = true
	}
	repeated := map[string]bool{}
	for _, in := range interruptions {
		// A graceful stop is judged by what was persisted before it too: it must not lose a task id.
		held := maps.Clone(in.jobs)
		if held == nil {
			held = map[uint64]messages.Job{}
		}
		for id, j := range in.before {
			if j.TaskID != "" && held[id].TaskID == "" && !held[id].Terminal() {
				held[id] = j
			}
		}
		for id, j := range held {
			seen[j.TaskID] = true
			if j.Terminal() || j.TaskID == "" {
				continue
			}
			for _, i := range byJob[id] {
				t := all[i]
				if t.ID == j.TaskID || !t.CreatedAt.After(in.restarted) || state[j.TaskID] == "fail" || repeated[t.ID] {
					continue
				}
				repeated[t.ID] = true
				res.RepeatedTasks = append(res.RepeatedTasks, fmt.Sprintf(
					"job %d: task %s created %s after restart %d, though the data already held task %s (%s)",
					id, short(t.ID), t.CreatedAt.Sub(in.restarted).Round(time.Millisecond), in.n, short(j.TaskID), state[j.TaskID]))
			}
		}
	}
	for _, t := range all {
		if seen[t.ID] || t.State == "fail" {
			continue
		}
		res.UnsavedTasks++
		// The interruption that followed the task's creation is the one that cut it off.
		for _, in := range interruptions {
			if in.at.After(t.CreatedAt) {
				if in.graceful {
					res.UnsavedByTerm++
				}
				break
			}
		}
	}
}

func jobOfTask(input map[string]any) (uint64, bool) {
	var urls []string
	for _, v := range input {
		switch v := v.(type) {
		case string:
			urls = append(urls, v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					urls = append(urls, s)
				}
			}
		}
	}
	for _, u := range urls {
		if m := photoOfJob.FindStringSubmatch(u); m != nil {
			id, err := strconv.ParseUint(m[1], 10, 64)
			return id, err == nil
		}
	}
	return 0, false
}

// countDuplicates counts results sent more than once. A second send is explained when a kill fell
// between the earlier send and its record: the earlier send reached Telegram before the next
// process started (so the killed one made it), the later one after the kill, and the snapshot of
// that kill still had the job in flight. A request the killed process had already written can
// reach the fake a moment after the kill, so the send's time is compared with the restart.
func countDuplicates(res *Result, sends map[uint64][]send, interruptions []interruption) {
	for _, id := range sortedIDs(sends) {
		s := sends[id]
		for i := 1; i < len(s); i++ {
			res.Duplicates++
			explained := false
			for _, in := range interruptions {
				j, ok := in.jobs[id]
				if ok && !j.Terminal() && s[i-1].at.Before(in.restarted) && s[i].at.After(in.at) {
					explained = true
					break
				}
			}
			if explained {
				res.DupsExplained++
			} else {
				res.DupsUnexplained = append(res.DupsUnexplained, fmt.Sprintf("job %d: result sent again %s after the previous send, with no kill in between",
					id, s[i].at.Sub(s[i-1].at).Round(time.Millisecond)))
			}
		}
	}
}

// leaks looks for the bot token, the KIE key and the admin token in everything the bot wrote.
func (r *run) leaks(res *Result) {
	logs, err := os.ReadFile(r.bot.logPath)
	if err != nil {
		res.SecretLeaks = append(res.SecretLeaks, "the bot's logs could not be read: "+err.Error())
		return
	}
	res.DataRaces = DataRaces(logs)
	for _, leak := range r.secrets.Leaks(string(logs)) {
		res.SecretLeaks = append(res.SecretLeaks, leak+" in the bot's logs")
	}
	for _, leak := range r.secrets.Leaks(res.CheckOutput) {
		res.SecretLeaks = append(res.SecretLeaks, leak+" in the output of neurocards check")
	}
}

func readUsers(dir string) ([]store.User, error) {
	st, err := store.Open(dir, store.Options{ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.AllUsers()
}

func sortedIDs[V any](m map[uint64]V) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// Problems lists every must-be-zero number that is not zero, and anything that made the run
// itself incomplete.
func (res *Result) Problems() []string {
	var p []string
	add := func(n int, format string, args ...any) {
		if n > 0 {
			p = append(p, fmt.Sprintf(format, args...))
		}
	}
	if res.RunError != "" {
		p = append(p, "the run did not complete: "+res.RunError)
	}
	add(btoi(res.Jobs == 0), "no job ran")
	add(btoi(res.Kills > 0 && stagesHit(res) == 0), "none of the %d kills found a job in flight: the run proved nothing about recovery", res.Kills)
	add(len(res.Lost), "%d jobs lost", len(res.Lost))
	add(len(res.Waiting), "%d sellers left without an answer", len(res.Waiting))
	add(len(res.Unordered), "%d sellers have jobs they never ordered", len(res.Unordered))
	add(res.Check.DoubleHolds, "%d double holds", res.Check.DoubleHolds)
	add(res.Check.DoubleCaptures, "%d double captures", res.Check.DoubleCaptures)
	add(res.Check.DoubleReleases, "%d double releases", res.Check.DoubleReleases)
	add(btoi(res.CheckExit != 0), "neurocards check exited %d with %d violations", res.CheckExit, len(res.Check.Violations))
	add(len(res.RepeatedTasks), "%d KIE tasks created for a job whose task id was already persisted", len(res.RepeatedTasks))
	add(res.UnmappedTasks, "%d KIE tasks name no job's photo", res.UnmappedTasks)
	for _, b := range res.Bursts {
		add(btoi(res.MaxRecreated >= 0 && b.Recreated > res.MaxRecreated), "burst %d: the restarted bot created %d of %d tasks again (at most %d may be)", b.N, b.Recreated, b.Jobs, res.MaxRecreated)
		add(b.Jobs-b.Recreated-b.Resumed, "burst %d: %d jobs neither resumed their task nor created another", b.N, b.Jobs-b.Recreated-b.Resumed)
	}
	add(len(res.DupsUnexplained), "%d results delivered again without a kill to explain it", len(res.DupsUnexplained))
	add(len(res.BackupErrors), "%d hot backups were broken", len(res.BackupErrors))
	add(res.SlowStops, "%d graceful stops took over 10 s", res.SlowStops)
	add(len(res.BotExits), "the bot stopped badly %d times", len(res.BotExits))
	add(len(res.SecretLeaks), "secrets leaked: %s", strings.Join(res.SecretLeaks, "; "))
	add(res.DataRaces, "%d data races reported by the bot", res.DataRaces)
	return p
}

// stagesHit is how many kills found a job in some stage.
func stagesHit(res *Result) int {
	n := 0
	for _, k := range res.StagesHit {
		n += k
	}
	return n
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Print writes the report an operator reads.
func (res *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "\nneurocards torture: %d sellers, seed %d, %s\n", res.Sellers, res.Seed, res.Elapsed.Round(time.Second))
	fmt.Fprintf(w, "  jobs:               %d — %d done, %d failed (sellers told why), %d in flight\n", res.Jobs, res.Done, res.Failed, res.InFlight)
	fmt.Fprintf(w, "  kills:              %d SIGKILL + %d graceful restarts (slowest stop %.2fs; final SIGTERM stop %.2fs)\n",
		res.Kills, res.Terms, res.SlowestStop.Seconds(), res.FinalStop.Seconds())
	var hits []string
	for _, st := range append(slices.Clone(killable), messages.StageDelivered) {
		hits = append(hits, fmt.Sprintf("%s %d/%d", st, res.StagesHit[st], res.JobsHit[st]))
	}
	fmt.Fprintf(w, "  stages hit:         %s (kills that found a job there / jobs found;\n", strings.Join(hits, ", "))
	fmt.Fprintf(w, "                      delivered: the delivery recorded, the capture not yet)\n")
	fmt.Fprintf(w, "  jobs lost:          %d; sellers left without an answer: %d; jobs no seller ordered (an update handled twice): %d\n",
		len(res.Lost), len(res.Waiting), len(res.Unordered))
	fmt.Fprintf(w, "  double holds:       %d, double captures: %d, double releases: %d (neurocards check exit %d, %d violations)\n",
		res.Check.DoubleHolds, res.Check.DoubleCaptures, res.Check.DoubleReleases, res.CheckExit, len(res.Check.Violations))
	fmt.Fprintf(w, "  KIE tasks:          %d created; %d for a job whose task id was already persisted; %d cut off before their id was saved (%d of them by a SIGTERM)\n",
		res.Tasks, len(res.RepeatedTasks), res.UnsavedTasks, res.UnsavedByTerm)
	if len(res.Bursts) > 0 {
		var saved, again, resumed, killed, unsaved []string
		for _, b := range res.Bursts {
			saved = append(saved, fmt.Sprintf("%d/%d", b.Saved, b.Jobs))
			var ms []string
			for _, d := range b.Unsaved {
				ms = append(ms, fmt.Sprintf("%.1f", float64(d.Microseconds())/1000))
			}
			unsaved = append(unsaved, fmt.Sprintf("burst %d (answers over %d ms): %s", b.N, b.Spread.Milliseconds(), strings.Join(ms, ", ")))
			again = append(again, strconv.Itoa(b.Recreated))
			resumed = append(resumed, strconv.Itoa(b.Resumed))
			killed = append(killed, fmt.Sprintf("%.1f", float64(b.Killed.Microseconds())/1000))
		}
		fmt.Fprintf(w, "  bursts:             %d × %d sellers confirming at once, the bot killed as KIE answered the last createTask (%s ms later)\n",
			len(res.Bursts), res.Bursts[0].Jobs, strings.Join(killed, ", "))
		bound := "no bound"
		if res.MaxRecreated >= 0 {
			bound = fmt.Sprintf("at most %d each", res.MaxRecreated)
		}
		fmt.Fprintf(w, "                      task ids on disk at the kill %s; tasks created twice %s (%s); resumed and delivered %s\n",
			strings.Join(saved, ", "), strings.Join(again, ", "), bound, strings.Join(resumed, ", "))
		fmt.Fprintf(w, "                      ids not on disk were answered this many ms before the last: %s\n", strings.Join(unsaved, "; "))
	}
	fmt.Fprintf(w, "  deliveries:         %d results sent; %d jobs' results sent more than once: %d after a kill between the send and its record, %d unexplained\n",
		res.Deliveries, res.Duplicates, res.DupsExplained, len(res.DupsUnexplained))
	fmt.Fprintf(w, "  updates resent:     %d earlier updates delivered again by Telegram\n", res.Resent)
	fmt.Fprintf(w, "  seller nudges:      %d steps repeated after an answer was lost to a kill\n", res.Nudges)
	fmt.Fprintf(w, "  stale statuses:     %d ended jobs whose status message does not say so (an edit lost to a kill)\n", len(res.StaleStatus))
	fmt.Fprintf(w, "  hot backups:        %d taken from the running bot, %d broken\n", res.Backups, len(res.BackupErrors))
	fmt.Fprintf(w, "  secrets in output:  %d; data races reported: %d\n", len(res.SecretLeaks), res.DataRaces)
	fmt.Fprintf(w, "  data and logs:      %s\n", res.WorkDir)
	details := func(title string, lines []string, most ...int) {
		if len(lines) == 0 {
			return
		}
		limit := 20
		if len(most) > 0 {
			limit = most[0]
		}
		fmt.Fprintf(w, "  %s:\n", title)
		for i, l := range lines {
			if i == limit {
				fmt.Fprintf(w, "    … and %d more\n", len(lines)-i)
				break
			}
			fmt.Fprintf(w, "    - %s\n", l)
		}
	}
	details("lost", res.Lost)
	details("sellers left waiting", res.Waiting)
	details("jobs never ordered", res.Unordered)
	details("stale status messages (for example)", res.StaleStatus, 3)
	details("check violations", res.Check.Violations)
	details("KIE paid twice", res.RepeatedTasks)
	details("unexplained duplicate deliveries", res.DupsUnexplained)
	details("broken hot backups", res.BackupErrors)
	details("bot stops", res.BotExits)
	details("secrets", res.SecretLeaks)
	if p := res.Problems(); len(p) > 0 {
		fmt.Fprintf(w, "✗ FAILED: %s\n", strings.Join(p, "; "))
		return
	}
	fmt.Fprintln(w, "✓ nothing lost, nothing charged twice, KIE never paid twice for a saved task")
}
