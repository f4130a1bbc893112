package texts

// Keys of the catalogue. Arguments are listed where a text takes them.
const (
	Greeting       Key = "greeting"        // name, balance (Credits)
	GreetingNew    Key = "greeting_new"    // name, start bonus (Credits), balance (Credits)
	MenuPrompt     Key = "menu_prompt"     // balance (Credits)
	KindButton     Key = "kind_button"     // title, price (Credits)
	ButtonBalance  Key = "button_balance"  //
	ButtonHelp     Key = "button_help"     //
	ButtonMenu     Key = "button_menu"     //
	ButtonSkip     Key = "button_skip"     //
	ButtonGenerate Key = "button_generate" //
	ButtonCancel   Key = "button_cancel"   //
	ButtonAgain    Key = "button_again"    //
	ButtonRetry    Key = "button_retry"    //

	AskPhoto        Key = "ask_photo"        // kind title
	PhotoNotImage   Key = "photo_not_image"  //
	PhotoTooSmall   Key = "photo_too_small"  // width, height, min side
	PhotoTooLarge   Key = "photo_too_large"  // size in MB, max MB
	AskText         Key = "ask_text"         // max characters
	TextTooLong     Key = "text_too_long"    // length, max
	TextNotText     Key = "text_not_text"    //
	Confirm         Key = "confirm"          // kind title, product, price (Credits), balance after (Credits)
	NoProduct       Key = "no_product"       //
	NotEnough       Key = "not_enough"       // price (Credits), available (Credits)
	TooManyJobs     Key = "too_many_jobs"    // jobs in flight
	Cancelled       Key = "cancelled"        //
	Stale           Key = "stale"            //
	AlreadyStarted  Key = "already_started"  //
	NothingToRepeat Key = "nothing_to_again" //
	UnknownInput    Key = "unknown_input"    //
	SomethingWrong  Key = "something_wrong"  //
	BlockedHint     Key = "blocked_hint"     //

	Accepted         Key = "accepted"          // kind title
	StatusQueued     Key = "status_queued"     //
	StatusGenerating Key = "status_generating" // elapsed m:ss
	StatusSending    Key = "status_sending"    //
	StatusDelayed    Key = "status_delayed"    //
	StatusDone       Key = "status_done"       //
	StatusFailed     Key = "status_failed"     //
	Delayed          Key = "delayed"           //
	ResultCaption    Key = "result_caption"    // kind title, price (Credits), balance (Credits)

	FailContentPolicy Key = "fail_content_policy" // price (Credits)
	FailBadPhoto      Key = "fail_bad_photo"      // price (Credits)
	FailUnavailable   Key = "fail_unavailable"    // price (Credits)
	FailUpstream      Key = "fail_upstream"       // price (Credits)
	FailTimeout       Key = "fail_timeout"        // price (Credits)
	FailDelivery      Key = "fail_delivery"       // price (Credits)
	FailInternal      Key = "fail_internal"       // price (Credits)
	FailCancelled     Key = "fail_cancelled"      // price (Credits)

	Balance Key = "balance" // balance, held, available (Credits)
	Help    Key = "help"    // price list
)

var catalogue = map[string]map[Key]string{
	RU: {
		Greeting:       "👋 %s, с возвращением!\n\nБаланс: %s.\nЧто сделаем для вашего товара?",
		GreetingNew:    "👋 Привет, %s! Я делаю для маркетплейсов видео и карточки товара по одному фото.\n\nДарю %s на пробу. Баланс: %s.\nЧто сделаем для вашего товара?",
		MenuPrompt:     "Баланс: %s.\nЧто сделаем для вашего товара?",
		KindButton:     "%s — %s",
		ButtonBalance:  "💰 Баланс",
		ButtonHelp:     "❓ Помощь",
		ButtonMenu:     "📋 Меню",
		ButtonSkip:     "⏭ Пропустить",
		ButtonGenerate: "🚀 Сгенерировать",
		ButtonCancel:   "✖️ Отмена",
		ButtonAgain:    "🔁 Сделать ещё",
		ButtonRetry:    "🔁 Повторить",

		AskPhoto:        "%s\n\n📸 Пришлите фото товара: один товар, крупно, при хорошем свете. Можно фотографией или файлом JPG, PNG, WebP.",
		PhotoNotImage:   "Это не фото товара. Пришлите, пожалуйста, фотографию или файл JPG, PNG или WebP.",
		PhotoTooSmall:   "Фото слишком маленькое: %d×%d. Нужно не меньше %d пикселей по короткой стороне — пришлите фото покрупнее или файлом без сжатия.",
		PhotoTooLarge:   "Файл слишком большой: %.1f МБ. Нужно не больше %d МБ — пришлите фото поменьше или сожмите его.",
		AskText:         "✍️ Напишите название товара и главные особенности: материал, цвет, для кого, чем хорош (до %d символов).\n\nИли нажмите «Пропустить» — сделаю по фото.",
		TextTooLong:     "Текст длинноват: %d символов, а можно до %d. Сократите, пожалуйста, и пришлите ещё раз.",
		TextNotText:     "Жду текст с названием и особенностями товара — или нажмите «Пропустить».",
		Confirm:         "Проверьте заказ:\n\n%s\nТовар: %s\nСтоимость: %s\nБаланс после: %s\n\nЗапускаем?",
		NoProduct:       "по фото, без описания",
		NotEnough:       "Не хватает кредитов: нужно %s, доступно %s. Ничего не списано.",
		TooManyJobs:     "Заданий в работе: %d — это максимум. Дождитесь результата, и можно будет запустить ещё. Ничего не списано.",
		Cancelled:       "Отменил. Ничего не списано.",
		Stale:           "Эта кнопка устарела. Начните заново из меню.",
		AlreadyStarted:  "Это задание уже запущено — результат придёт сюда.",
		NothingToRepeat: "Пока нечего повторять — выберите, что сделать.",
		UnknownInput:    "Не понял 🤔 Выберите в меню, что сделать.",
		SomethingWrong:  "Что-то пошло не так на нашей стороне. Кредиты не списаны — попробуйте ещё раз.",
		BlockedHint:     "С возвращением! Продолжим.",

		Accepted:         "✅ Принял! Генерация запущена…\n%s",
		StatusQueued:     "⏳ В очереди",
		StatusGenerating: "🎨 Генерирую… %s",
		StatusSending:    "📤 Отправляю результат…",
		StatusDelayed:    "⏸ Ждём сервис генерации — кредиты в безопасности",
		StatusDone:       "✅ Готово!",
		StatusFailed:     "❌ Не получилось — кредиты вернулись",
		Delayed:          "⏸ Сервис генерации сейчас не отвечает, поэтому задание ждёт в очереди. Кредиты в безопасности: запущу, как только сервис оживёт, а если не выйдет — верну их.",
		ResultCaption:    "✅ Готово: %s. Списано %s, баланс: %s.",

		FailContentPolicy: "❌ Сервис генерации отказался работать с этим фото или описанием: похоже на нарушение его правил (люди, бренды, недопустимый контент).\n\n%s вернулись на баланс. Попробуйте другое фото — только товар, без людей — или измените описание.",
		FailBadPhoto:      "❌ Не получилось использовать это фото: сервис не смог его прочитать.\n\n%s вернулись на баланс. Пришлите другое фото — чёткое, JPG или PNG, от 300 пикселей по короткой стороне.",
		FailUnavailable:   "❌ Генерация временно недоступна — это на нашей стороне, мы уже разбираемся.\n\n%s вернулись на баланс. Попробуйте чуть позже.",
		FailUpstream:      "❌ Сервис генерации не справился с задачей несколько раз подряд — это не из-за вашего фото.\n\n%s вернулись на баланс. Нажмите «Повторить» — обычно со второго раза получается.",
		FailTimeout:       "❌ Генерация заняла слишком много времени, и я её остановил — это не из-за вашего фото.\n\n%s вернулись на баланс. Нажмите «Повторить» или попробуйте позже.",
		FailDelivery:      "❌ Результат готов, но Telegram не принял файл — это на нашей стороне.\n\n%s вернулись на баланс. Нажмите «Повторить», чтобы сделать заново.",
		FailInternal:      "❌ Простите, у нас что-то сломалось. Мы уже знаем и разбираемся.\n\n%s вернулись на баланс. Нажмите «Повторить».",
		FailCancelled:     "❌ Задание отменено оператором.\n\n%s вернулись на баланс.",

		Balance: "💰 Баланс: %s\nВ работе: %s\nДоступно: %s",
		Help:    "Как это работает:\n1. Выберите, что сделать.\n2. Пришлите фото товара.\n3. Напишите название и особенности (или пропустите).\n4. Подтвердите — кредиты резервируются, результат придёт сюда через несколько минут.\n\nЦены:\n%s\n\nЕсли что-то не получилось — по нашей вине или из-за фото — кредиты возвращаются на баланс автоматически, а я пишу, что случилось и что сделать.",
	},
	EN: {
		Greeting:       "👋 Welcome back, %s!\n\nBalance: %s.\nWhat shall we make for your product?",
		GreetingNew:    "👋 Hi, %s! I make marketplace product videos and product cards from a single photo.\n\nHere are %s to try it. Balance: %s.\nWhat shall we make for your product?",
		MenuPrompt:     "Balance: %s.\nWhat shall we make for your product?",
		KindButton:     "%s — %s",
		ButtonBalance:  "💰 Balance",
		ButtonHelp:     "❓ Help",
		ButtonMenu:     "📋 Menu",
		ButtonSkip:     "⏭ Skip",
		ButtonGenerate: "🚀 Generate",
		ButtonCancel:   "✖️ Cancel",
		ButtonAgain:    "🔁 Make another",
		ButtonRetry:    "🔁 Retry",

		AskPhoto:        "%s\n\n📸 Send a photo of the product: one item, close up, in good light. As a photo or as a JPG, PNG or WebP file.",
		PhotoNotImage:   "That is not a product photo. Please send a photo, or a JPG, PNG or WebP file.",
		PhotoTooSmall:   "The photo is too small: %d×%d. It needs at least %d pixels on the short side — send a bigger one, or send it as a file to avoid compression.",
		PhotoTooLarge:   "The file is too large: %.1f MB. The limit is %d MB — send a smaller photo.",
		AskText:         "✍️ Write the product's name and key features: material, colour, who it is for, what makes it good (up to %d characters).\n\nOr tap Skip and I will work from the photo.",
		TextTooLong:     "That is a bit long: %d characters, the limit is %d. Please shorten it and send again.",
		TextNotText:     "I am waiting for the product's name and features as text — or tap Skip.",
		Confirm:         "Please check your order:\n\n%s\nProduct: %s\nPrice: %s\nBalance after: %s\n\nShall I start?",
		NoProduct:       "from the photo, no description",
		NotEnough:       "Not enough credits: %s needed, %s available. Nothing was charged.",
		TooManyJobs:     "Jobs in progress: %d — that is the limit. Wait for a result, then you can start another. Nothing was charged.",
		Cancelled:       "Cancelled. Nothing was charged.",
		Stale:           "This button is out of date. Please start again from the menu.",
		AlreadyStarted:  "This job has already started — the result will arrive here.",
		NothingToRepeat: "There is nothing to repeat yet — choose what to make.",
		UnknownInput:    "I did not get that 🤔 Choose what to make from the menu.",
		SomethingWrong:  "Something went wrong on our side. Nothing was charged — please try again.",
		BlockedHint:     "Welcome back! Let us continue.",

		Accepted:         "✅ Got it! Generation started…\n%s",
		StatusQueued:     "⏳ Queued",
		StatusGenerating: "🎨 Generating… %s",
		StatusSending:    "📤 Sending the result…",
		StatusDelayed:    "⏸ Waiting for the generation service — your credits are safe",
		StatusDone:       "✅ Done!",
		StatusFailed:     "❌ It did not work — credits returned",
		Delayed:          "⏸ The generation service is not responding right now, so your job is waiting in the queue. Your credits are safe: I will start as soon as the service is back, and return them if it does not come back in time.",
		ResultCaption:    "✅ Ready: %s. Charged %s, balance: %s.",

		FailContentPolicy: "❌ The generation service refused this photo or description: it looks like a breach of its content rules (people, brands, disallowed content).\n\n%s returned to your balance. Try another photo — just the product, no people — or change the description.",
		FailBadPhoto:      "❌ This photo could not be used: the service could not read it.\n\n%s returned to your balance. Send another photo — sharp, JPG or PNG, at least 300 pixels on the short side.",
		FailUnavailable:   "❌ Generation is temporarily unavailable — the problem is on our side and we are on it.\n\n%s returned to your balance. Please try again a bit later.",
		FailUpstream:      "❌ The generation service failed several times in a row — not because of your photo.\n\n%s returned to your balance. Tap Retry — it usually works the second time.",
		FailTimeout:       "❌ Generation took too long, so I stopped it — not because of your photo.\n\n%s returned to your balance. Tap Retry or try again later.",
		FailDelivery:      "❌ The result was ready, but Telegram did not accept the file — the problem is on our side.\n\n%s returned to your balance. Tap Retry to make it again.",
		FailInternal:      "❌ Sorry, something broke on our side. We know and are fixing it.\n\n%s returned to your balance. Tap Retry.",
		FailCancelled:     "❌ The job was cancelled by an operator.\n\n%s returned to your balance.",

		Balance: "💰 Balance: %s\nIn progress: %s\nAvailable: %s",
		Help:    "How it works:\n1. Choose what to make.\n2. Send a photo of the product.\n3. Write its name and features (or skip).\n4. Confirm — the credits are reserved and the result arrives here in a few minutes.\n\nPrices:\n%s\n\nIf something fails — on our side or because of the photo — the credits return to your balance automatically, and I tell you what happened and what to do.",
	},
}
