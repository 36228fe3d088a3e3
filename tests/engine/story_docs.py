"""Hand-made articles on running stories, by several outlets over several days, for the story and answer-shape
tests: a hurricane (a wire copy, a death toll that rises and that two outlets give differently on one day), a
prime minister's fall, unrelated news of the same days, and an old story."""

from __future__ import annotations

from datetime import date

from index import Article

GULF, BAY, COAST = "Gulf Herald", "Bay Courier", "Coastal Times"


def _article(slug: str, outlet: str, day: date, title: str, body: str) -> Article:
    host = outlet.lower().replace(" ", "")
    return Article(
        title=title,
        body=body,
        outlet=outlet,
        published=day,
        url=f"https://{host}.example/{day.isoformat().replace('-', '/')}/{slug}",
    )


DELIA_1 = _article(
    "delia-strengthens",
    GULF,
    date(2024, 9, 10),
    "Hurricane Delia strengthens to Category 3 as it nears Port Alden",
    (
        "Hurricane Delia strengthened to a Category 3 storm on Tuesday as it churned toward Port Alden, with "
        "sustained winds of 120 mph, the National Storm Center said.\n\n"
        "Governor Mara Quint declared a state of emergency and ordered 40,000 residents of the low-lying Saltmarsh "
        "and Harbor districts to leave their homes before the storm arrives early Wednesday.\n\n"
        "Forecasters warned of a storm surge of up to 12 feet along the Alden coast and up to 15 inches of rain "
        "inland. Shelters opened at six schools, and the Port Alden airport cancelled all flights.\n\n"
        '"Do not wait to see how bad it gets," Quint told reporters at the emergency operations center.\n\n'
        "For our latest coverage of the storm, see the live page."
    ),
)

DELIA_1_COPY = _article(
    "delia-strengthens-wire",
    COAST,
    date(2024, 9, 10),
    "Hurricane Delia strengthens to Category 3 as it nears Port Alden | Coastal Times",
    DELIA_1.body,
)

DELIA_2 = _article(
    "delia-landfall",
    BAY,
    date(2024, 9, 11),
    "Hurricane Delia makes landfall near Port Alden, killing 12 people",
    (
        "Hurricane Delia made landfall near Port Alden early Wednesday with winds of 115 mph, tearing roofs off "
        "homes in the Saltmarsh district and flooding the harbor front, Governor Mara Quint said.\n\n"
        "The storm killed 12 people in Port Alden and the surrounding county, officials said, most of them in "
        "flooded homes near the Alden river. About 200,000 homes were without power on Wednesday evening.\n\n"
        "Rescue crews pulled more than 300 people from flooded streets, and the National Guard was sent to the "
        "Saltmarsh district, where the water stood five feet deep."
    ),
)

DELIA_3 = _article(
    "delia-toll-rises",
    GULF,
    date(2024, 9, 12),
    "Delia death toll rises as floodwaters recede in Port Alden",
    (
        "The number of people killed by Hurricane Delia in Port Alden rose on Thursday as floodwaters receded "
        "and rescue crews reached the Saltmarsh district: officials now count 27 people killed.\n\n"
        "About 90,000 homes were still without power on Thursday, down from 200,000 at the height of the storm, "
        "the Alden Power Company said.\n\n"
        "President Ruth Calder approved a federal disaster declaration for the Alden coast, which frees money for "
        "temporary housing and repairs, Governor Mara Quint said. Quint said the Port Alden harbor would reopen "
        "to cargo ships on Monday."
    ),
)

DELIA_3_OTHER = _article(
    "delia-cleanup",
    BAY,
    date(2024, 9, 12),
    "Port Alden begins cleanup after Hurricane Delia",
    (
        "Port Alden began clearing debris on Thursday after Hurricane Delia, which county officials said killed "
        "31 people across the Alden coast.\n\n"
        "Volunteers handed out water and food at the Saltmarsh community center, and the city opened two more "
        "shelters for families whose homes were flooded. Governor Mara Quint toured the harbor front.\n\n"
        "Insurers estimated the storm's damage at $4 billion."
    ),
)

DELIA_4 = _article(
    "delia-schools-reopen",
    GULF,
    date(2024, 9, 14),
    "Port Alden schools to reopen as Delia recovery moves on",
    (
        "Schools in Port Alden will reopen on Monday, five days after Hurricane Delia flooded the Saltmarsh "
        "district, Governor Mara Quint said on Saturday.\n\n"
        "Power has been restored to all but 8,000 homes, and the harbor reopened to cargo ships a day early. "
        "Federal disaster aid has begun to reach families who lost their homes in the storm."
    ),
)

VARGA_1 = _article(
    "varga-confidence-vote",
    BAY,
    date(2024, 9, 11),
    "Norland prime minister Ilse Varga faces confidence vote after budget defeat",
    (
        "Norland's prime minister Ilse Varga will face a confidence vote in parliament on Thursday after her "
        "budget was defeated by 12 votes, the speaker of the Norland parliament said.\n\n"
        "Three members of Varga's own Centre Alliance voted against the budget, which would have raised fuel "
        "taxes. Opposition leader Tomas Brandt called on her to resign. The defeat was first reported by the Gulf "
        "Herald."
    ),
)

VARGA_2 = _article(
    "varga-resigns",
    GULF,
    date(2024, 9, 12),
    "Ilse Varga resigns as Norland prime minister after losing confidence vote",
    (
        "Ilse Varga resigned as prime minister of Norland on Thursday after losing a confidence vote in "
        "parliament, two days after her budget was defeated.\n\n"
        'Varga said she would stay on as caretaker until the Centre Alliance chooses a new leader. "The '
        'parliament has spoken," she told reporters outside the Norland parliament.'
    ),
)

VARGA_3 = _article(
    "brandt-coalition",
    BAY,
    date(2024, 9, 13),
    "Centre Alliance picks finance minister Jonas Ek to succeed Varga as Norland leader",
    (
        "Norland's Centre Alliance chose finance minister Jonas Ek on Friday to succeed Ilse Varga as prime "
        "minister, a day after Varga resigned over the defeat of her budget.\n\n"
        "Ek said he would bring a new budget to the Norland parliament within a month and would not raise fuel "
        "taxes."
    ),
)

TRAM = _article(
    "riverside-tram",
    GULF,
    date(2024, 9, 12),
    "Kestrel Bay council approves tram line to Riverside",
    (
        "The Kestrel Bay city council approved a new tram line to the Riverside neighbourhood on Thursday, "
        "with construction to start next spring and service in 2027.\n\n"
        "The line will have nine stops and cost $310 million, the city's transport department said."
    ),
)

LIONS = _article(
    "lions-title",
    BAY,
    date(2024, 9, 12),
    "Harbor Lions win the basketball championship in overtime",
    (
        "The Harbor Lions won the national basketball championship on Thursday night, beating the Valley Hawks "
        "101-98 in overtime in front of 18,000 fans.\n\n"
        "Guard Nia Okafor scored 34 points, including the three-pointer that forced overtime."
    ),
)

LAPTOP = _article(
    "lumora-laptop",
    BAY,
    date(2024, 9, 10),
    "Lumora unveils a foldable laptop",
    (
        "Technology company Lumora unveiled a laptop with a foldable screen on Tuesday, priced at $2,400, at its "
        "developer conference in Kestrel Bay.\n\n"
        "The laptop folds into a tablet and goes on sale in November, Lumora chief executive Priya Nand said."
    ),
)

DROUGHT = _article(
    "kessel-drought",
    GULF,
    date(2021, 6, 3),
    "Kessel Valley farmers ration water as drought deepens",
    (
        "Farmers in the Kessel Valley began rationing irrigation water on Thursday as the drought entered its "
        "third year, the Kessel Water Board said.\n\n"
        "Reservoirs in the valley are at 18 percent of capacity, the lowest level since records began."
    ),
)

DELIA = [DELIA_1, DELIA_1_COPY, DELIA_2, DELIA_3, DELIA_3_OTHER, DELIA_4]
VARGA = [VARGA_1, VARGA_2, VARGA_3]
OTHERS = [TRAM, LIONS, LAPTOP, DROUGHT]
ALL = sorted(DELIA + VARGA + OTHERS, key=lambda a: a.published or date.min)  # stable: an original before its copy
