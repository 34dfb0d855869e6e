"""The demo journeys' messages: (subject, text) per template key and locale, in the
sandboxed Jinja of docs/JOURNEYS.md. ``answers.brew``, ``answers.nps`` and
``answers.wish`` stand for the demo survey's question keys (``answers.q<id>``), put in when
the templates are saved. Demo content, not interface text: it is data, not translated
through the catalogues."""

from __future__ import annotations

FRIENDS = "{% if friends %}{{ friends[0].name }}{% else %}…{% endif %}"
WISH_EN = '{{ answers.wish|default("a new roast") }}'

MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "welcome": {
        "en": (
            "Welcome to {{ campaign.name }}, {{ customer.first_name }}!",
            "Hi {{ customer.first_name }},\n\nthanks for confirming: you are in "
            "{{ campaign.name }}. Share your link and you get 100 points for every friend "
            "who joins:\n{{ referral_link }}\n\nHappy brewing,\nDemo Coffee Roasters",
        ),
        "de": (
            "Willkommen bei {{ campaign.name }}, {{ customer.first_name }}!",
            "Hallo {{ customer.first_name }},\n\ndanke für deine Bestätigung: Du bist bei "
            "{{ campaign.name }} dabei. Teile deinen Link, und für jede Freundin und jeden "
            "Freund, die mitmachen, bekommst du 100 Punkte:\n{{ referral_link }}\n\n"
            "Viel Freude beim Brühen,\nDemo Coffee Roasters",
        ),
        "nl": (
            "Welkom bij {{ campaign.name }}, {{ customer.first_name }}!",
            "Hoi {{ customer.first_name }},\n\nbedankt voor je bevestiging: je doet mee aan "
            "{{ campaign.name }}. Deel je link en je krijgt 100 punten voor elke vriend die "
            "meedoet:\n{{ referral_link }}\n\nVeel koffieplezier,\nDemo Coffee Roasters",
        ),
        "zh_Hans": (
            "欢迎加入「{{ campaign.name }}」，{{ customer.first_name }}！",
            "{{ customer.first_name }}，你好：\n\n感谢你的确认，你已加入「{{ campaign.name }}」。"
            "分享你的专属链接，每有一位朋友加入，你就能获得 100 积分：\n{{ referral_link }}\n\n"
            "祝你冲煮愉快！\nDemo Coffee Roasters",
        ),
        "zh_Hant": (
            "歡迎加入「{{ campaign.name }}」，{{ customer.first_name }}！",
            "{{ customer.first_name }}，你好：\n\n感謝你的確認，你已加入「{{ campaign.name }}」。"
            "分享你的專屬連結，每有一位朋友加入，你就能獲得 100 點：\n{{ referral_link }}\n\n"
            "祝你沖煮愉快！\nDemo Coffee Roasters",
        ),
    },
    "share_nudge": {
        "en": (
            "Your first free bag is three friends away",
            "Hi {{ customer.first_name }},\n\nnone of your friends has joined "
            "{{ campaign.name }} yet. Send them your link, it takes a second:\n"
            "{{ referral_link }}",
        ),
        "de": (
            "Deine erste Gratistüte ist nur drei Freunde entfernt",
            "Hallo {{ customer.first_name }},\n\nbisher ist noch niemand über dich bei "
            "{{ campaign.name }} dabei. Schick deinen Link weiter, das dauert nur eine "
            "Sekunde:\n{{ referral_link }}",
        ),
        "nl": (
            "Je eerste gratis zak koffie is maar drie vrienden ver",
            "Hoi {{ customer.first_name }},\n\ner doet nog geen vriend van je mee aan "
            "{{ campaign.name }}. Stuur ze je link, dat is zo gedaan:\n{{ referral_link }}",
        ),
        "zh_Hans": (
            "再邀请三位朋友，就能免费领取第一袋咖啡",
            "{{ customer.first_name }}，你好：\n\n还没有朋友通过你加入「{{ campaign.name }}」。"
            "把你的链接发给他们吧，只需一秒钟：\n{{ referral_link }}",
        ),
        "zh_Hant": (
            "再邀請三位朋友，就能免費領取第一袋咖啡",
            "{{ customer.first_name }}，你好：\n\n還沒有朋友透過你加入「{{ campaign.name }}」。"
            "把你的連結傳給他們吧，只需一秒鐘：\n{{ referral_link }}",
        ),
    },
    "friend_joined": {
        "en": (
            "Your friend " + FRIENDS + " joined!",
            "Hi {{ customer.first_name }},\n\n" + FRIENDS + " joined {{ campaign.name }} "
            "through your link. That makes {{ friends_count }} friends and {{ points }} "
            "points so far.\n\nKeep sharing: {{ referral_link }}",
        ),
        "de": (
            FRIENDS + " ist dabei – dank dir!",
            "Hallo {{ customer.first_name }},\n\n" + FRIENDS + " macht über deinen Link bei "
            "{{ campaign.name }} mit. Damit hast du {{ friends_count }} Freunde geworben und "
            "{{ points }} Punkte gesammelt.\n\nWeiter so: {{ referral_link }}",
        ),
        "nl": (
            "Je vriend " + FRIENDS + " doet mee!",
            "Hoi {{ customer.first_name }},\n\n" + FRIENDS + " doet via jouw link mee aan "
            "{{ campaign.name }}. Daarmee sta je op {{ friends_count }} vrienden en "
            "{{ points }} punten.\n\nBlijf delen: {{ referral_link }}",
        ),
        "zh_Hans": (
            "你的朋友 " + FRIENDS + " 加入了！",
            "{{ customer.first_name }}，你好：\n\n" + FRIENDS + " 通过你的链接加入了"
            "「{{ campaign.name }}」。到目前为止，你已邀请 {{ friends_count }} 位朋友，"
            "累计 {{ points }} 积分。\n\n继续分享：{{ referral_link }}",
        ),
        "zh_Hant": (
            "你的朋友 " + FRIENDS + " 加入了！",
            "{{ customer.first_name }}，你好：\n\n" + FRIENDS + " 透過你的連結加入了"
            "「{{ campaign.name }}」。到目前為止，你已邀請 {{ friends_count }} 位朋友，"
            "累積 {{ points }} 點。\n\n繼續分享：{{ referral_link }}",
        ),
    },
    "milestone": {
        "en": (
            "{{ points }} points: you are in the 1,000 club!",
            "Congratulations, {{ customer.first_name }}!\n\n{{ friends_count }} friends joined "
            "through you and you passed 1,000 points.{% if next_milestone %} Only "
            "{{ next_milestone.remaining }} more for the {{ next_milestone.target }}-friend "
            "bonus.{% endif %}\n\n{{ referral_link }}",
        ),
        "de": (
            "{{ points }} Punkte: Willkommen im 1.000er-Club!",
            "Glückwunsch, {{ customer.first_name }}!\n\n{{ friends_count }} Freunde sind über "
            "dich dabei, und du hast die 1.000 Punkte geknackt.{% if next_milestone %} Nur "
            "noch {{ next_milestone.remaining }} bis zum Bonus für "
            "{{ next_milestone.target }} Freunde.{% endif %}\n\n{{ referral_link }}",
        ),
        "nl": (
            "{{ points }} punten: welkom in de 1000-club!",
            "Gefeliciteerd, {{ customer.first_name }}!\n\n{{ friends_count }} vrienden doen via "
            "jou mee en je bent over de 1000 punten.{% if next_milestone %} Nog maar "
            "{{ next_milestone.remaining }} tot de bonus voor {{ next_milestone.target }} "
            "vrienden.{% endif %}\n\n{{ referral_link }}",
        ),
        "zh_Hans": (
            "{{ points }} 积分：欢迎加入千分俱乐部！",
            "恭喜你，{{ customer.first_name }}！\n\n已有 {{ friends_count }} 位朋友通过你加入，"
            "你的积分已突破 1000。{% if next_milestone %}再邀请 "
            "{{ next_milestone.remaining }} 位，即可获得 {{ next_milestone.target }} "
            "位好友奖励。{% endif %}\n\n{{ referral_link }}",
        ),
        "zh_Hant": (
            "{{ points }} 點：歡迎加入千點俱樂部！",
            "恭喜你，{{ customer.first_name }}！\n\n已有 {{ friends_count }} 位朋友透過你加入，"
            "你的點數已突破 1000。{% if next_milestone %}再邀請 "
            "{{ next_milestone.remaining }} 位，即可獲得 {{ next_milestone.target }} "
            "位好友獎勵。{% endif %}\n\n{{ referral_link }}",
        ),
    },
    "survey_promoter": {
        "en": (
            "{{ answers.nps }} out of 10, thank you!",
            "Hi {{ customer.first_name }},\n\nyou told us you would recommend us with a "
            "{{ answers.nps }} out of 10, and that you brew with: {{ answers.brew }}. "
            "Then your friends will love it too: share your link and you both get points.\n"
            "{{ referral_link }}",
        ),
        "de": (
            "{{ answers.nps }} von 10 – danke!",
            "Hallo {{ customer.first_name }},\n\ndu würdest uns mit {{ answers.nps }} von 10 "
            "weiterempfehlen und brühst am liebsten so: {{ answers.brew }}. Dann gefällt es "
            "deinen Freunden bestimmt auch: Teile deinen Link, und ihr bekommt beide "
            "Punkte.\n{{ referral_link }}",
        ),
        "nl": (
            "{{ answers.nps }} op 10, dank je wel!",
            "Hoi {{ customer.first_name }},\n\nje zou ons aanraden met een {{ answers.nps }} "
            "op 10, en je zet je koffie zo: {{ answers.brew }}. Dan vinden je vrienden het "
            "vast ook lekker: deel je link en jullie krijgen allebei punten.\n"
            "{{ referral_link }}",
        ),
        "zh_Hans": (
            "你给了我们 {{ answers.nps }} 分，谢谢！",
            "{{ customer.first_name }}，你好：\n\n你说愿意以 {{ answers.nps }} 分（满分 10 分）"
            "向朋友推荐我们，平时喜欢用「{{ answers.brew }}」冲煮。那你的朋友一定也会喜欢："
            "分享你的链接，你们都能获得积分。\n{{ referral_link }}",
        ),
        "zh_Hant": (
            "你給了我們 {{ answers.nps }} 分，謝謝！",
            "{{ customer.first_name }}，你好：\n\n你說願意以 {{ answers.nps }} 分（滿分 10 分）"
            "向朋友推薦我們，平時喜歡用「{{ answers.brew }}」沖煮。那你的朋友一定也會喜歡："
            "分享你的連結，你們都能獲得點數。\n{{ referral_link }}",
        ),
    },
    "survey_listen": {
        "en": (
            "We heard you, {{ customer.first_name }}",
            "Hi {{ customer.first_name }},\n\nthank you for your honest "
            "{{ answers.nps }} out of 10. You wished for " + WISH_EN + ", and we are "
            "taking it to the roastery. Just reply to this e-mail to tell us more.",
        ),
        "de": (
            "Wir haben dir zugehört, {{ customer.first_name }}",
            "Hallo {{ customer.first_name }},\n\ndanke für deine ehrliche "
            "{{ answers.nps }} von 10. Dein Wunsch – "
            '{{ answers.wish|default("eine neue Röstung") }} – geht direkt an unsere '
            "Rösterei. Antworte einfach auf diese E-Mail, wenn du uns mehr erzählen magst.",
        ),
        "nl": (
            "We hebben je gehoord, {{ customer.first_name }}",
            "Hoi {{ customer.first_name }},\n\nbedankt voor je eerlijke {{ answers.nps }} op "
            '10. Je wens – {{ answers.wish|default("een nieuwe branding") }} – nemen we mee '
            "naar de branderij. Beantwoord deze e-mail gerust als je ons meer wilt vertellen.",
        ),
        "zh_Hans": (
            "{{ customer.first_name }}，我们听到了你的声音",
            "{{ customer.first_name }}，你好：\n\n感谢你坦诚地给出 {{ answers.nps }} 分。"
            '你希望我们推出「{{ answers.wish|default("新的烘焙") }}」，我们会转达给烘焙师。'
            "如果想告诉我们更多，直接回复这封邮件即可。",
        ),
        "zh_Hant": (
            "{{ customer.first_name }}，我們聽到了你的聲音",
            "{{ customer.first_name }}，你好：\n\n感謝你坦誠地給出 {{ answers.nps }} 分。"
            '你希望我們推出「{{ answers.wish|default("新的烘焙") }}」，我們會轉達給烘焙師。'
            "如果想告訴我們更多，直接回覆這封郵件即可。",
        ),
    },
    "survey_thanks": {
        "en": (
            "Thanks for telling us your taste",
            "Hi {{ customer.first_name }},\n\nthanks for answering our taste survey. You brew "
            "with: {{ answers.brew }}. Next week we roast a blend made for exactly that; "
            "watch your inbox.",
        ),
        "de": (
            "Danke, dass du uns deinen Geschmack verraten hast",
            "Hallo {{ customer.first_name }},\n\ndanke für deine Antworten. Du brühst so: "
            "{{ answers.brew }}. Nächste Woche rösten wir eine Mischung genau dafür – "
            "halte dein Postfach im Blick.",
        ),
        "nl": (
            "Bedankt dat je je smaak met ons deelt",
            "Hoi {{ customer.first_name }},\n\nbedankt voor je antwoorden. Je zet je koffie "
            "zo: {{ answers.brew }}. Volgende week branden we een melange die daar precies "
            "bij past; houd je inbox in de gaten.",
        ),
        "zh_Hans": (
            "感谢你告诉我们你的口味",
            "{{ customer.first_name }}，你好：\n\n感谢你填写口味问卷。你喜欢用"
            "「{{ answers.brew }}」冲煮。下周我们会为此烘焙一款专属拼配，请留意你的邮箱。",
        ),
        "zh_Hant": (
            "感謝你告訴我們你的口味",
            "{{ customer.first_name }}，你好：\n\n感謝你填寫口味問卷。你喜歡用"
            "「{{ answers.brew }}」沖煮。下週我們會為此烘焙一款專屬拼配，請留意你的信箱。",
        ),
    },
    "birthday": {
        "en": (
            "Happy birthday, {{ customer.first_name }}! A treat from us",
            "Happy birthday, {{ customer.first_name }}!\n\nYour coupon BIRTHDAY15 takes 15% "
            "off your next order this week. Enjoy your day, and your coffee.",
        ),
        "de": (
            "Alles Gute zum Geburtstag, {{ customer.first_name }}! Ein Geschenk von uns",
            "Alles Gute zum Geburtstag, {{ customer.first_name }}!\n\nMit dem Gutschein "
            "BIRTHDAY15 sparst du diese Woche 15 % auf deine nächste Bestellung. Genieß "
            "deinen Tag – und deinen Kaffee.",
        ),
        "nl": (
            "Gefeliciteerd, {{ customer.first_name }}! Een cadeautje van ons",
            "Gefeliciteerd met je verjaardag, {{ customer.first_name }}!\n\nMet de code "
            "BIRTHDAY15 krijg je deze week 15% korting op je volgende bestelling. Geniet van "
            "je dag, en van je koffie.",
        ),
        "zh_Hans": (
            "{{ customer.first_name }}，生日快乐！送你一份小礼物",
            "{{ customer.first_name }}，生日快乐！\n\n本周下单使用优惠码 BIRTHDAY15，"
            "即可享受 85 折优惠。祝你今天过得愉快，咖啡也香醇。",
        ),
        "zh_Hant": (
            "{{ customer.first_name }}，生日快樂！送你一份小禮物",
            "{{ customer.first_name }}，生日快樂！\n\n本週下單使用優惠碼 BIRTHDAY15，"
            "即可享有 85 折優惠。祝你今天過得愉快，咖啡也香醇。",
        ),
    },
    "winback": {
        "en": (
            "We miss you, {{ customer.first_name }}",
            "Hi {{ customer.first_name }},\n\nit has been a month. Your {{ points }} points "
            "are still waiting for you, and a friend who joins through your link adds 100 "
            "more:\n{{ referral_link }}",
        ),
        "de": (
            "Wir vermissen dich, {{ customer.first_name }}",
            "Hallo {{ customer.first_name }},\n\nschon ein Monat ist vergangen. Deine "
            "{{ points }} Punkte warten noch auf dich, und jeder Freund, der über deinen "
            "Link mitmacht, bringt 100 dazu:\n{{ referral_link }}",
        ),
        "nl": (
            "We missen je, {{ customer.first_name }}",
            "Hoi {{ customer.first_name }},\n\nhet is alweer een maand geleden. Je "
            "{{ points }} punten staan nog voor je klaar, en elke vriend die via jouw link "
            "meedoet, levert er 100 bij op:\n{{ referral_link }}",
        ),
        "zh_Hans": (
            "{{ customer.first_name }}，我们想你了",
            "{{ customer.first_name }}，你好：\n\n已经一个月没见了。你的 {{ points }} 积分"
            "还在等你，每有一位朋友通过你的链接加入，还能再得 100 积分：\n{{ referral_link }}",
        ),
        "zh_Hant": (
            "{{ customer.first_name }}，我們想你了",
            "{{ customer.first_name }}，你好：\n\n已經一個月沒見了。你的 {{ points }} 點"
            "還在等你，每有一位朋友透過你的連結加入，還能再得 100 點：\n{{ referral_link }}",
        ),
    },
    "winback_last": {
        "en": (
            "Last call: your {{ points }} points",
            "Hi {{ customer.first_name }},\n\none last note from us: your {{ points }} points "
            "and your link are still here whenever you want them.\n{{ referral_link }}",
        ),
        "de": (
            "Letzte Erinnerung: deine {{ points }} Punkte",
            "Hallo {{ customer.first_name }},\n\nein letzter Gruß von uns: Deine "
            "{{ points }} Punkte und dein Link sind weiterhin für dich da.\n"
            "{{ referral_link }}",
        ),
        "nl": (
            "Laatste herinnering: je {{ points }} punten",
            "Hoi {{ customer.first_name }},\n\neen laatste berichtje van ons: je "
            "{{ points }} punten en je link staan nog altijd voor je klaar.\n"
            "{{ referral_link }}",
        ),
        "zh_Hans": (
            "最后提醒：你的 {{ points }} 积分",
            "{{ customer.first_name }}，你好：\n\n最后再提醒一次：你的 {{ points }} 积分和"
            "专属链接随时等你回来。\n{{ referral_link }}",
        ),
        "zh_Hant": (
            "最後提醒：你的 {{ points }} 點",
            "{{ customer.first_name }}，你好：\n\n最後再提醒一次：你的 {{ points }} 點和"
            "專屬連結隨時等你回來。\n{{ referral_link }}",
        ),
    },
}
