"""Countries of the sample's customers, with the names, mail domains and places that make a CRM row look real."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    weight: float  # share of the customers
    calling_code: str
    currency: str  # the shop prices in EUR everywhere except GB (GBP) and the US (USD)
    female_names: tuple[str, ...]
    male_names: tuple[str, ...]
    last_names: tuple[str, ...]
    mail_domains: tuple[str, ...]  # local providers; many customers use a generic one instead
    places: tuple[tuple[str, str], ...]  # (city, region)


COUNTRIES: tuple[Country, ...] = (
    Country("DE", 0.25, "+49", "EUR",
     ("Anna", "Lena", "Laura", "Julia", "Sophie", "Katharina", "Sabine", "Petra"),
     ("Lukas", "Jonas", "Felix", "Maximilian", "Thomas", "Michael", "Stefan", "Jürgen"),
     ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz"),
     ("gmx.de", "web.de", "t-online.de"),
     (("Berlin", "Berlin"), ("Hamburg", "Hamburg"), ("Munich", "Bavaria"), ("Nuremberg", "Bavaria"),
      ("Cologne", "North Rhine-Westphalia"), ("Düsseldorf", "North Rhine-Westphalia"), ("Frankfurt", "Hesse"),
      ("Stuttgart", "Baden-Württemberg"), ("Leipzig", "Saxony"))),
    Country("FR", 0.15, "+33", "EUR",
     ("Camille", "Léa", "Manon", "Chloé", "Julie", "Marie", "Nathalie", "Isabelle"),
     ("Lucas", "Hugo", "Louis", "Thomas", "Nicolas", "Julien", "Pierre", "Antoine"),
     ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"),
     ("orange.fr", "free.fr", "laposte.net"),
     (("Paris", "Île-de-France"), ("Lyon", "Auvergne-Rhône-Alpes"), ("Marseille", "Provence-Alpes-Côte d'Azur"),
      ("Toulouse", "Occitanie"), ("Lille", "Hauts-de-France"), ("Nantes", "Pays de la Loire"),
      ("Bordeaux", "Nouvelle-Aquitaine"))),
    Country("GB", 0.13, "+44", "GBP",
     ("Olivia", "Amelia", "Emily", "Sophie", "Charlotte", "Sarah", "Emma", "Rachel"),
     ("Oliver", "George", "Harry", "Jack", "James", "William", "Daniel", "Thomas"),
     ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "O'Brien"),
     ("btinternet.com", "sky.com", "yahoo.co.uk"),
     (("London", "England"), ("Manchester", "England"), ("Birmingham", "England"), ("Leeds", "England"),
      ("Glasgow", "Scotland"), ("Edinburgh", "Scotland"), ("Cardiff", "Wales"), ("Belfast", "Northern Ireland"))),
    Country("US", 0.10, "+1", "USD",
     ("Emma", "Olivia", "Ava", "Madison", "Jessica", "Ashley", "Jennifer", "Megan"),
     ("Liam", "Noah", "Ethan", "Michael", "Christopher", "Matthew", "Joshua", "Tyler"),
     ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"),
     ("yahoo.com", "aol.com", "icloud.com"),
     (("New York", "New York"), ("Los Angeles", "California"), ("San Francisco", "California"),
      ("Chicago", "Illinois"), ("Houston", "Texas"), ("Seattle", "Washington"), ("Boston", "Massachusetts"),
      ("Miami", "Florida"), ("Denver", "Colorado"))),
    Country("NL", 0.10, "+31", "EUR",
     ("Emma", "Sanne", "Lotte", "Fleur", "Anouk", "Iris"),
     ("Daan", "Sem", "Bram", "Thijs", "Jeroen", "Ruben"),
     ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer"),
     ("ziggo.nl", "kpnmail.nl", "hetnet.nl"),
     (("Amsterdam", "North Holland"), ("Haarlem", "North Holland"), ("Rotterdam", "South Holland"),
      ("The Hague", "South Holland"), ("Utrecht", "Utrecht"), ("Eindhoven", "North Brabant"),
      ("Groningen", "Groningen"))),
    Country("ES", 0.08, "+34", "EUR",
     ("Lucía", "María", "Paula", "Carmen", "Laura", "Marta"),
     ("Hugo", "Pablo", "Alejandro", "Javier", "Carlos", "Daniel"),
     ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"),
     ("telefonica.net", "yahoo.es", "movistar.es"),
     (("Madrid", "Community of Madrid"), ("Barcelona", "Catalonia"), ("Valencia", "Valencian Community"),
      ("Seville", "Andalusia"), ("Málaga", "Andalusia"), ("Bilbao", "Basque Country"))),
    Country("IT", 0.08, "+39", "EUR",
     ("Giulia", "Sofia", "Martina", "Chiara", "Francesca", "Alessia"),
     ("Lorenzo", "Matteo", "Andrea", "Marco", "Luca", "Giuseppe"),
     ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"),
     ("libero.it", "virgilio.it", "alice.it"),
     (("Rome", "Lazio"), ("Milan", "Lombardy"), ("Bergamo", "Lombardy"), ("Naples", "Campania"),
      ("Turin", "Piedmont"), ("Bologna", "Emilia-Romagna"), ("Florence", "Tuscany"))),
    Country("PL", 0.06, "+48", "EUR",
     ("Zuzanna", "Julia", "Maja", "Anna", "Katarzyna", "Agnieszka"),
     ("Jakub", "Jan", "Piotr", "Tomasz", "Krzysztof", "Paweł"),
     ("Nowak", "Kowalczyk", "Wójcik", "Kamiński", "Lewandowski",
      "Zieliński", "Szymański", "Woźniak", "Mazur", "Krawczyk"),
     ("wp.pl", "onet.pl", "o2.pl"),
     (("Warsaw", "Masovia"), ("Kraków", "Lesser Poland"), ("Wrocław", "Lower Silesia"), ("Gdańsk", "Pomerania"),
      ("Poznań", "Greater Poland"), ("Łódź", "Łódź"))),
    Country("SE", 0.05, "+46", "EUR",
     ("Alice", "Maja", "Elsa", "Astrid", "Ebba", "Karin"),
     ("William", "Oscar", "Lucas", "Erik", "Johan", "Anders"),
     ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson",
      "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson"),
     ("telia.com", "bredband.net", "spray.se"),
     (("Stockholm", "Stockholm"), ("Gothenburg", "Västra Götaland"), ("Malmö", "Skåne"), ("Uppsala", "Uppsala"),
      ("Västerås", "Västmanland"))),
)  # fmt: skip

GENERIC_MAIL_DOMAINS = ("gmail.com", "outlook.com", "hotmail.com", "icloud.com", "yahoo.com")
COMPANY_WORDS = ("nordwind", "bluepeak", "lumen", "vertex", "kestrel", "orbit", "greenfield", "ironbridge", "sunline",
                 "brightpath", "northstar", "quarry", "meridian", "alder", "copperleaf")  # fmt: skip
COMPANY_TOP_LEVEL_DOMAINS = {"DE": "de", "FR": "fr", "GB": "co.uk", "US": "com", "NL": "nl", "ES": "es", "IT": "it",
                             "PL": "pl", "SE": "se"}  # fmt: skip
# Mail addresses are ASCII: accents are dropped, spaces and apostrophes of names removed.
MAIL_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "á": "a",
                                      "í": "i", "ó": "o", "ú": "u", "ñ": "n", "ç": "c", "ł": "l", "ś": "s", "ź": "z",
                                      "ż": "z", "ń": "n", "ą": "a", "ę": "e", "ć": "c", "å": "a", " ": "",
                                      "'": ""})  # fmt: skip
