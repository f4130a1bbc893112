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
	PhotoTooBig     Key = "photo_too_big"    // width, height, max side
	PhotoTooLarge   Key = "photo_too_large"  // size in MB, max MB
	AskText         Key = "ask_text"         // max characters
	TextTooLong     Key = "text_too_long"    // length, max
	TextNotText     Key = "text_not_text"    //
	Confirm         Key = "confirm"          // kind title, product, price (Credits), balance after (Credits)
	NoProduct       Key = "no_product"       //
	NotEnough       Key = "not_enough"       // price (Credits), available (Credits)
	TooManyJobs     Key = "too_many_jobs"    // jobs in flight
	Cancelled       Key = "cancelled"        //
	PrivateOnly     Key = "private_only"     //
	Stale           Key = "stale"            //
	AlreadyStarted  Key = "already_started"  //
	AgainUsed       Key = "again_used"       //
	NothingToRepeat Key = "nothing_to_again" //
	UnknownInput    Key = "unknown_input"    //
	SomethingWrong  Key = "something_wrong"  //

	Accepted         Key = "accepted"          // kind title
	StatusQueued     Key = "status_queued"     //
	StatusGenerating Key = "status_generating" // elapsed m:ss
	StatusSending    Key = "status_sending"    //
	StatusDelayed    Key = "status_delayed"    //
	StatusDone       Key = "status_done"       //
	StatusFailed     Key = "status_failed"     //
	StatusCancelled  Key = "status_cancelled"  //
	StatusInLine     Key = "status_in_line"    // place, wait (Wait)
	ConfirmWait      Key = "confirm_wait"      // wait (Wait)
	Busy             Key = "busy"              // wait (Wait)
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
	Help    Key = "help"    // min side, max MB, price list, packs

	ButtonTopUp    Key = "button_top_up"    //
	ButtonHistory  Key = "button_history"   //
	ButtonRedo     Key = "button_redo"      // job id
	ButtonRetryJob Key = "button_retry_job" // job id
	ButtonLangRU   Key = "button_lang_ru"   //
	ButtonLangEN   Key = "button_lang_en"   //
	PackButton     Key = "pack_button"      // credits (Credits), stars

	BuyPrompt          Key = "buy_prompt"           // available (Credits)
	InvoiceTitle       Key = "invoice_title"        // credits (Credits)
	InvoiceDescription Key = "invoice_description"  // credits (Credits)
	PreCheckoutGone    Key = "pre_checkout_gone"    //
	PreCheckoutPrice   Key = "pre_checkout_price"   //
	Receipt            Key = "receipt"              // credits (Credits), balance (Credits)
	PaymentUnknownPack Key = "payment_unknown_pack" // stars

	BalanceRows   Key = "balance_rows"    // rows, one a line
	BalanceNoRows Key = "balance_no_rows" //
	RowDated      Key = "row_dated"       // row, date
	RowGrant      Key = "row_grant"       // credits
	RowPurchase   Key = "row_purchase"    // credits
	RowHold       Key = "row_hold"        // credits, job
	RowCapture    Key = "row_capture"     // credits, job
	RowRelease    Key = "row_release"     // credits, job
	RowAdjustIn   Key = "row_adjust_in"   // credits
	RowAdjustOut  Key = "row_adjust_out"  // credits
	RowRefundJob  Key = "row_refund_job"  // credits, job
	RowChargeBack Key = "row_charge_back" // credits
	JobRef        Key = "job_ref"         // kind title, job id

	HistoryTitle      Key = "history_title"       // lines
	HistoryEmpty      Key = "history_empty"       //
	HistoryLine       Key = "history_line"        // job id, kind title, date, state, cost
	StateInProgress   Key = "state_in_progress"   //
	StateDelivered    Key = "state_delivered"     //
	StateRefunded     Key = "state_refunded"      // why
	StateOperatorBack Key = "state_operator_back" //
	CostHeld          Key = "cost_held"           // credits (Credits)
	CostCharged       Key = "cost_charged"        // credits (Credits)
	CostReturned      Key = "cost_returned"       // credits (Credits)

	WhyContentPolicy Key = "why_content_policy" //
	WhyBadPhoto      Key = "why_bad_photo"      //
	WhyUnavailable   Key = "why_unavailable"    //
	WhyUpstream      Key = "why_upstream"       //
	WhyTimeout       Key = "why_timeout"        //
	WhyDelivery      Key = "why_delivery"       //
	WhyBlocked       Key = "why_blocked"        //
	WhyCancelled     Key = "why_cancelled"      //
	WhyInternal      Key = "why_internal"       //

	LangPrompt      Key = "lang_prompt"      //
	LangSet         Key = "lang_set"         //
	TooFast         Key = "too_fast"         //
	PhotoUnreadable Key = "photo_unreadable" //
	PhotoFetch      Key = "photo_fetch"      //

	CmdStart   Key = "cmd_start"   //
	CmdBuy     Key = "cmd_buy"     //
	CmdBalance Key = "cmd_balance" //
	CmdHistory Key = "cmd_history" //
	CmdLang    Key = "cmd_lang"    //
	CmdHelp    Key = "cmd_help"    //

	AdminGrantUsage      Key = "admin_grant_usage"       //
	AdminNoUser          Key = "admin_no_user"           // user id
	AdminGranted         Key = "admin_granted"           // amount (SignedCredits), user id, row, balance, held (Credits)
	AdminGrantRefused    Key = "admin_grant_refused"     // user id, available, balance, held (Credits)
	AdminAlreadyDone     Key = "admin_already_done"      //
	AdminOutOfRange      Key = "admin_out_of_range"      //
	AdminTooLong         Key = "admin_too_long"          //
	AdminUserUsage       Key = "admin_user_usage"        //
	AdminUser            Key = "admin_user"              // id, name, lang, balance, held, blocked, since, seen, jobs
	AdminYes             Key = "admin_yes"               //
	AdminNo              Key = "admin_no"                //
	AdminNoJobs          Key = "admin_no_jobs"           //
	AdminStats           Key = "admin_stats"             // jobs, done, failed, in flight, sold, purchases, spent, adjusted, sellers
	AdminRefundUsage     Key = "admin_refund_usage"      //
	AdminNoJob           Key = "admin_no_job"            // job id
	AdminRefundReleased  Key = "admin_refund_released"   // job id, price (Credits), user id, balance (Credits)
	AdminRefundAdjusted  Key = "admin_refund_adjusted"   // job id, price (Credits), user id, row, balance (Credits)
	AdminRefundAlready   Key = "admin_refund_already"    // job id
	AdminRefundFailedJob Key = "admin_refund_failed_job" // job id
	AdminStarsUsage      Key = "admin_stars_usage"       //
	AdminStarsUnknown    Key = "admin_stars_unknown"     // charge id
	AdminStarsAlready    Key = "admin_stars_already"     // charge id
	AdminStarsSpent      Key = "admin_stars_spent"       // purchased (Credits), user id, available (Credits)
	AdminStarsFailed     Key = "admin_stars_failed"      // Telegram's answer
	AdminStarsDone       Key = "admin_stars_done"        // charge id, user id, taken (Credits), row, balance (Credits)
	SellerGranted        Key = "seller_granted"          // credits (Credits), balance (Credits)
	SellerDebited        Key = "seller_debited"          // credits (Credits), balance (Credits)
	SellerReason         Key = "seller_reason"           // reason
	SellerJobRefunded    Key = "seller_job_refunded"     // price (Credits), kind title, balance (Credits)
	SellerStarsRefunded  Key = "seller_stars_refunded"   // taken (Credits), balance (Credits)
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
		PhotoTooBig:     "Фото слишком большое: %d×%d. Сервис генерации принимает не больше %d пикселей по длинной стороне — уменьшите фото и пришлите снова.",
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
		PrivateOnly:     "Эта кнопка работает только в личном чате с ботом.",
		Stale:           "Эта кнопка устарела. Начните заново из меню.",
		AlreadyStarted:  "Это задание уже запущено — результат придёт сюда.",
		AgainUsed:       "По этой кнопке новое задание уже запущено — второе нажатие ничего не списывает. Чтобы сделать ещё одно, нажмите «🔁 Сделать ещё» под новым.",
		NothingToRepeat: "Пока нечего повторять — выберите, что сделать.",
		UnknownInput:    "Не понял 🤔 Выберите в меню, что сделать.",
		SomethingWrong:  "Что-то пошло не так на нашей стороне. Кредиты не списаны — попробуйте ещё раз.",

		Accepted:         "✅ Принял! Генерация запущена…\n%s",
		StatusQueued:     "⏳ В очереди",
		StatusGenerating: "🎨 Генерирую… %s",
		StatusSending:    "📤 Отправляю результат…",
		StatusDelayed:    "⏸ Ждём сервис генерации — кредиты в безопасности",
		StatusDone:       "✅ Готово!",
		StatusFailed:     "❌ Не получилось — кредиты вернулись",
		StatusCancelled:  "❌ Отменено оператором — кредиты вернулись",
		StatusInLine:     "⏳ В очереди: %d-й, старт %s",
		ConfirmWait:      "\n\n⏳ Сейчас очередь: старт %s.",
		Busy:             "😔 Сейчас слишком много заказов: ваше задание не успело бы выполниться вовремя. Попробуйте %s — кредиты не списаны.",
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
		Help:    "Как это работает:\n1. Выберите, что сделать.\n2. Пришлите фото товара: от %d пикселей по короткой стороне, до %d МБ.\n3. Напишите название и особенности (или пропустите).\n4. Подтвердите — кредиты резервируются, результат придёт сюда через несколько минут.\n\nЦены:\n%s\n\nПакеты кредитов, оплата звёздами Telegram ⭐ (/buy):\n%s\n\nКредиты списываются, только когда результат доставлен. Если что-то не получилось — по нашей вине или из-за фото — резерв возвращается на баланс автоматически, а я пишу, что случилось и что сделать.\n\n/balance — баланс и операции, /history — задания, /lang — язык.",

		ButtonTopUp:    "💳 Пополнить",
		ButtonHistory:  "🧾 История",
		ButtonRedo:     "🔁 Ещё #%d",
		ButtonRetryJob: "🔁 Повторить #%d",
		ButtonLangRU:   "🇷🇺 Русский",
		ButtonLangEN:   "🇬🇧 English",
		PackButton:     "%s — %d ⭐",

		BuyPrompt:          "💳 Пополнение баланса. Сейчас доступно: %s.\n\nВыберите пакет — оплата звёздами Telegram ⭐. Кредиты придут сразу после оплаты и не сгорают.",
		InvoiceTitle:       "Пакет: %s",
		InvoiceDescription: "%s на видео и карточки товаров. Кредиты придут на баланс сразу после оплаты и не сгорают.",
		PreCheckoutGone:    "Этот пакет больше не продаётся. Откройте /buy и выберите пакет заново.",
		PreCheckoutPrice:   "Цена пакета изменилась. Откройте /buy и выберите пакет заново.",
		Receipt:            "✅ Оплата прошла: +%s.\nБаланс: %s. Спасибо!",
		PaymentUnknownPack: "Оплата получена (%d ⭐), но такого пакета больше нет, поэтому кредиты не начислились сами. Оператор начислит их или вернёт звёзды.",

		BalanceRows:   "\n\nПоследние операции (время московское):\n%s",
		BalanceNoRows: "\n\nОпераций пока нет.",
		RowDated:      "%s, %s",
		RowGrant:      "+%d 🎁 подарок",
		RowPurchase:   "+%d 💳 покупка",
		RowHold:       "🔒 %d в резерве: %s",
		RowCapture:    "−%d %s",
		RowRelease:    "↩️ %d вернулись из резерва: %s",
		RowAdjustIn:   "+%d от оператора",
		RowAdjustOut:  "−%d списано оператором",
		RowRefundJob:  "+%d возврат за %s",
		RowChargeBack: "−%d возврат звёзд",
		JobRef:        "%s #%d",

		HistoryTitle:      "🧾 Последние задания (время московское):\n\n%s",
		HistoryEmpty:      "Заданий пока нет — выберите в меню, что сделать.",
		HistoryLine:       "#%d %s, %s\n%s · %s",
		StateInProgress:   "⏳ в работе",
		StateDelivered:    "✅ доставлено",
		StateRefunded:     "↩️ не получилось: %s",
		StateOperatorBack: "✅ доставлено, ↩️ кредиты вернул оператор",
		CostHeld:          "в резерве %s",
		CostCharged:       "списано %s",
		CostReturned:      "возвращено %s",

		WhyContentPolicy: "сервис генерации отказался по своим правилам",
		WhyBadPhoto:      "фото не подошло",
		WhyUnavailable:   "генерация была недоступна",
		WhyUpstream:      "сбой сервиса генерации",
		WhyTimeout:       "генерация заняла слишком долго",
		WhyDelivery:      "Telegram не принял файл",
		WhyBlocked:       "бот был заблокирован",
		WhyCancelled:     "отменено оператором",
		WhyInternal:      "ошибка на нашей стороне",

		LangPrompt:      "Выберите язык · Choose your language",
		LangSet:         "Готово: теперь говорю по-русски.",
		TooFast:         "Слишком много сообщений подряд — я сделаю паузу и снова буду отвечать через минуту. Ничего не потеряно.",
		PhotoUnreadable: "Не получилось открыть этот файл как изображение. Пришлите фото товара — фотографией или файлом JPG, PNG, WebP.",
		PhotoFetch:      "Не получилось получить файл от Telegram. Пришлите его, пожалуйста, ещё раз.",

		CmdStart:   "Начать и открыть меню",
		CmdBuy:     "Купить кредиты за звёзды",
		CmdBalance: "Баланс и последние операции",
		CmdHistory: "Последние задания",
		CmdLang:    "Язык: русский или English",
		CmdHelp:    "Как это работает и цены",

		AdminGrantUsage:      "Формат: /grant <user_id> <кредиты> [причина]. Кредиты можно со знаком минус.",
		AdminNoUser:          "Пользователя %d нет: он ещё не писал боту.",
		AdminGranted:         "Готово: %s пользователю %d (запись #%d). Баланс: %s, в работе: %s.",
		AdminGrantRefused:    "Не списал: у пользователя %d доступно только %s (баланс %s, в работе %s). Ниже резерва заданий в работе списывать нельзя.",
		AdminOutOfRange:      "Сумма вне допустимых пределов: не больше 1 000 000 кредитов за раз, и баланс продавца должен остаться в пределах, которые хранит бот. Ничего не изменено.",
		AdminTooLong:         "Слишком длинная команда: аргументы — не больше 512 байт, причина — не больше 200 символов. Ничего не изменено.",
		AdminAlreadyDone:     "Эта команда уже выполнена.",
		AdminUserUsage:       "Формат: /user <user_id>",
		AdminUser:            "👤 %d, %s (%s)\nБаланс: %s, в работе: %s\nЗаблокировал бота: %s\nС нами с %s, последний раз: %s\n\nПоследние задания:\n%s",
		AdminYes:             "да",
		AdminNo:              "нет",
		AdminNoJobs:          "нет",
		AdminStats:           "📊 Сегодня, с 00:00 по Москве:\nЗаданий: %d — готово %d, не получилось %d, в работе %d\nПродано кредитов: %d (покупок: %d)\nПотрачено кредитов: %d\nКорректировки операторов: %+d\n\nПродавцов всего: %d",
		AdminRefundUsage:     "Формат: /refund <job_id>",
		AdminNoJob:           "Задания #%d нет.",
		AdminRefundReleased:  "Задание #%d остановлено, резерв %s вернулся пользователю %d. Баланс: %s.",
		AdminRefundAdjusted:  "Задание #%d было доставлено — вернул %s пользователю %d (запись #%d). Баланс: %s.",
		AdminRefundAlready:   "По заданию #%d возврат уже был.",
		AdminRefundFailedJob: "Задание #%d не получилось, и его кредиты уже вернулись автоматически — возвращать нечего.",
		AdminStarsUsage:      "Формат: /refundstars <telegram_payment_charge_id>",
		AdminStarsUnknown:    "Платежа %s нет среди покупок.",
		AdminStarsAlready:    "Звёзды за платёж %s уже возвращены.",
		AdminStarsSpent:      "Не возвращаю: за этот платёж начислено %s, а у пользователя %d доступно только %s — остальное уже потрачено или в работе. Если вернуть звёзды всё равно нужно, сначала начислите недостающее через /grant.",
		AdminStarsFailed:     "Telegram не вернул звёзды: %s. Кредиты, снятые под возврат, вернулись на баланс.",
		AdminStarsDone:       "Вернул звёзды за платёж %s пользователю %d и списал %s (запись #%d). Баланс: %s.",
		SellerGranted:        "🎁 Оператор начислил вам %s. Баланс: %s.",
		SellerDebited:        "Оператор списал %s. Баланс: %s.",
		SellerReason:         "\nПричина: %s",
		SellerJobRefunded:    "↩️ Оператор вернул вам %s за задание «%s». Баланс: %s.",
		SellerStarsRefunded:  "⭐ Звёзды за покупку вернулись к вам, а %s сняты с баланса. Баланс: %s.",
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
		PhotoTooBig:     "The photo is too big: %d×%d. The generation service takes at most %d pixels on the long side — scale it down and send it again.",
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
		PrivateOnly:     "This button works only in a private chat with the bot.",
		Stale:           "This button is out of date. Please start again from the menu.",
		AlreadyStarted:  "This job has already started — the result will arrive here.",
		AgainUsed:       "This button has already started a new job — a second tap charges nothing. To make one more, tap «🔁 Make another» under the new one.",
		NothingToRepeat: "There is nothing to repeat yet — choose what to make.",
		UnknownInput:    "I did not get that 🤔 Choose what to make from the menu.",
		SomethingWrong:  "Something went wrong on our side. Nothing was charged — please try again.",

		Accepted:         "✅ Got it! Generation started…\n%s",
		StatusQueued:     "⏳ Queued",
		StatusGenerating: "🎨 Generating… %s",
		StatusSending:    "📤 Sending the result…",
		StatusDelayed:    "⏸ Waiting for the generation service — your credits are safe",
		StatusDone:       "✅ Done!",
		StatusFailed:     "❌ It did not work — credits returned",
		StatusCancelled:  "❌ Cancelled by an operator — credits returned",
		StatusInLine:     "⏳ In line: #%d, starting %s",
		ConfirmWait:      "\n\n⏳ There is a queue now: starting %s.",
		Busy:             "😔 Too many orders right now: your job could not finish in time. Please try %s — nothing was charged.",
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
		Help:    "How it works:\n1. Choose what to make.\n2. Send a photo of the product: at least %d pixels on the short side, up to %d MB.\n3. Write its name and features (or skip).\n4. Confirm — the credits are reserved and the result arrives here in a few minutes.\n\nPrices:\n%s\n\nCredit packs, paid with Telegram Stars ⭐ (/buy):\n%s\n\nCredits are charged only when the result is delivered. If something fails — on our side or because of the photo — the reserve returns to your balance automatically, and I tell you what happened and what to do.\n\n/balance — balance and operations, /history — jobs, /lang — language.",

		ButtonTopUp:    "💳 Top up",
		ButtonHistory:  "🧾 History",
		ButtonRedo:     "🔁 Again #%d",
		ButtonRetryJob: "🔁 Retry #%d",
		ButtonLangRU:   "🇷🇺 Русский",
		ButtonLangEN:   "🇬🇧 English",
		PackButton:     "%s — %d ⭐",

		BuyPrompt:          "💳 Top up your balance. Available now: %s.\n\nChoose a pack — you pay with Telegram Stars ⭐. The credits arrive right after payment and never expire.",
		InvoiceTitle:       "Pack: %s",
		InvoiceDescription: "%s for product videos and cards. They arrive on your balance right after payment and never expire.",
		PreCheckoutGone:    "This pack is no longer sold. Open /buy and choose a pack again.",
		PreCheckoutPrice:   "The price of this pack has changed. Open /buy and choose a pack again.",
		Receipt:            "✅ Payment received: +%s.\nBalance: %s. Thank you!",
		PaymentUnknownPack: "Payment received (%d ⭐), but that pack no longer exists, so no credits were added automatically. An operator will add them or refund the Stars.",

		BalanceRows:   "\n\nRecent operations (Moscow time):\n%s",
		BalanceNoRows: "\n\nNo operations yet.",
		RowDated:      "%s, %s",
		RowGrant:      "+%d 🎁 gift",
		RowPurchase:   "+%d 💳 purchase",
		RowHold:       "🔒 %d reserved: %s",
		RowCapture:    "−%d %s",
		RowRelease:    "↩️ %d returned from reserve: %s",
		RowAdjustIn:   "+%d from the operator",
		RowAdjustOut:  "−%d taken by the operator",
		RowRefundJob:  "+%d refund for %s",
		RowChargeBack: "−%d Stars refunded",
		JobRef:        "%s #%d",

		HistoryTitle:      "🧾 Recent jobs (Moscow time):\n\n%s",
		HistoryEmpty:      "No jobs yet — choose what to make from the menu.",
		HistoryLine:       "#%d %s, %s\n%s · %s",
		StateInProgress:   "⏳ in progress",
		StateDelivered:    "✅ delivered",
		StateRefunded:     "↩️ did not work: %s",
		StateOperatorBack: "✅ delivered, ↩️ credits returned by the operator",
		CostHeld:          "%s reserved",
		CostCharged:       "%s charged",
		CostReturned:      "%s returned",

		WhyContentPolicy: "the generation service refused under its rules",
		WhyBadPhoto:      "the photo could not be used",
		WhyUnavailable:   "generation was unavailable",
		WhyUpstream:      "the generation service failed",
		WhyTimeout:       "generation took too long",
		WhyDelivery:      "Telegram did not accept the file",
		WhyBlocked:       "the bot was blocked",
		WhyCancelled:     "cancelled by the operator",
		WhyInternal:      "a fault on our side",

		LangPrompt:      "Выберите язык · Choose your language",
		LangSet:         "Done: I will speak English now.",
		TooFast:         "That is a lot of messages at once — I will pause and answer again in a minute. Nothing is lost.",
		PhotoUnreadable: "This file could not be opened as an image. Send a photo of the product — as a photo, or as a JPG, PNG or WebP file.",
		PhotoFetch:      "The file could not be fetched from Telegram. Please send it again.",

		CmdStart:   "Start and open the menu",
		CmdBuy:     "Buy credits with Stars",
		CmdBalance: "Balance and recent operations",
		CmdHistory: "Recent jobs",
		CmdLang:    "Language: English or Russian",
		CmdHelp:    "How it works and prices",

		AdminGrantUsage:      "Usage: /grant <user_id> <credits> [reason]. Credits may be negative.",
		AdminNoUser:          "There is no user %d: they have not written to the bot.",
		AdminGranted:         "Done: %s to user %d (row #%d). Balance: %s, in progress: %s.",
		AdminGrantRefused:    "Not taken: user %d has only %s available (balance %s, in progress %s). Credits held by jobs in flight cannot be taken.",
		AdminOutOfRange:      "The amount is out of bounds: at most 1,000,000 credits at a time, and the seller's balance must stay within what the bot keeps. Nothing changed.",
		AdminTooLong:         "The command is too long: arguments up to 512 bytes, a reason up to 200 characters. Nothing changed.",
		AdminAlreadyDone:     "That command was already carried out.",
		AdminUserUsage:       "Usage: /user <user_id>",
		AdminUser:            "👤 %d, %s (%s)\nBalance: %s, in progress: %s\nBlocked the bot: %s\nWith us since %s, last seen: %s\n\nRecent jobs:\n%s",
		AdminYes:             "yes",
		AdminNo:              "no",
		AdminNoJobs:          "none",
		AdminStats:           "📊 Today, since 00:00 Moscow time:\nJobs: %d — done %d, failed %d, in progress %d\nCredits sold: %d (purchases: %d)\nCredits spent: %d\nOperator adjustments: %+d\n\nSellers in total: %d",
		AdminRefundUsage:     "Usage: /refund <job_id>",
		AdminNoJob:           "There is no job #%d.",
		AdminRefundReleased:  "Job #%d stopped; its reserve of %s went back to user %d. Balance: %s.",
		AdminRefundAdjusted:  "Job #%d was delivered — returned %s to user %d (row #%d). Balance: %s.",
		AdminRefundAlready:   "Job #%d was refunded already.",
		AdminRefundFailedJob: "Job #%d failed, and its credits went back automatically — there is nothing to refund.",
		AdminStarsUsage:      "Usage: /refundstars <telegram_payment_charge_id>",
		AdminStarsUnknown:    "There is no purchase with payment %s.",
		AdminStarsAlready:    "The Stars of payment %s were refunded already.",
		AdminStarsSpent:      "Not refunded: that payment added %s, and user %d has only %s available — the rest is spent or held by jobs. To refund the Stars anyway, first grant the difference with /grant.",
		AdminStarsFailed:     "Telegram did not refund the Stars: %s. The credits taken for the refund are back on the balance.",
		AdminStarsDone:       "Refunded the Stars of payment %s to user %d and took back %s (row #%d). Balance: %s.",
		SellerGranted:        "🎁 The operator added %s. Balance: %s.",
		SellerDebited:        "The operator took %s. Balance: %s.",
		SellerReason:         "\nReason: %s",
		SellerJobRefunded:    "↩️ The operator returned %s for the job “%s”. Balance: %s.",
		SellerStarsRefunded:  "⭐ The Stars for your purchase were refunded, and %s taken off your balance. Balance: %s.",
	},
}
