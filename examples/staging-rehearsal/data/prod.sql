CREATE TABLE users (
    id         bigint PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
CREATE TABLE knowledge_materials (
    id           bigint PRIMARY KEY,
    title        text NOT NULL,
    storage_path text NOT NULL,
    size_bytes   integer NOT NULL,
    meta         jsonb
);
CREATE TABLE ugc_assets (
    id           bigint PRIMARY KEY,
    owner_id     bigint NOT NULL,
    storage_path text,
    uploaded_at  timestamptz NOT NULL
);
ALTER TABLE ugc_assets ADD CONSTRAINT ugc_assets_owner_fk FOREIGN KEY (owner_id) REFERENCES users(id);
CREATE INDEX ugc_assets_owner_idx ON ugc_assets (owner_id);
CREATE TABLE gallery_items (
    id          bigint PRIMARY KEY,
    owner_id    bigint NOT NULL REFERENCES users(id),
    caption     text,
    storage_dir text NOT NULL
);

INSERT INTO users VALUES (1, 'user1@example.com', '2025-02-11 09:30:00+00');
INSERT INTO users VALUES (2, 'user2@example.com', '2025-03-12 09:30:00+00');
INSERT INTO users VALUES (3, 'user3@example.com', '2025-04-13 09:30:00+00');
INSERT INTO users VALUES (4, 'user4@example.com', '2025-05-14 09:30:00+00');
INSERT INTO users VALUES (5, 'user5@example.com', '2025-06-15 09:30:00+00');
INSERT INTO users VALUES (6, 'user6@example.com', '2025-07-16 09:30:00+00');
INSERT INTO users VALUES (7, 'user7@example.com', '2025-08-17 09:30:00+00');
INSERT INTO users VALUES (8, 'user8@example.com', '2025-09-18 09:30:00+00');
INSERT INTO users VALUES (9, 'user9@example.com', '2025-01-19 09:30:00+00');
INSERT INTO users VALUES (10, 'user10@example.com', '2025-02-10 09:30:00+00');
INSERT INTO users VALUES (11, 'user11@example.com', '2025-03-11 09:30:00+00');
INSERT INTO users VALUES (12, 'user12@example.com', '2025-04-12 09:30:00+00');
INSERT INTO users VALUES (13, 'user13@example.com', '2025-05-13 09:30:00+00');
INSERT INTO users VALUES (14, 'user14@example.com', '2025-06-14 09:30:00+00');
INSERT INTO users VALUES (15, 'user15@example.com', '2025-07-15 09:30:00+00');
INSERT INTO knowledge_materials VALUES (1, 'Material 1', '/app/.data/knowledge/1/handbook.pdf', 6034, '{"lang": "en", "pages": 4}');
INSERT INTO knowledge_materials VALUES (2, 'Material 2', '/app/.data/knowledge/2/规范.docx', 5895, '{"lang": "en", "pages": 17}');
INSERT INTO knowledge_materials VALUES (3, 'Material 3', '/app/.data/knowledge/3/handbook.pdf', 5933, '{"lang": "zh", "pages": 2}');
INSERT INTO knowledge_materials VALUES (4, 'Material 4', '/app/.data/knowledge/4/handbook.pdf', 11471, '{"lang": "zh", "pages": 33}');
INSERT INTO knowledge_materials VALUES (5, 'Material 5', '/app/.data/knowledge/5/faq.md', 5586, '{"lang": "zh", "pages": 33}');
INSERT INTO knowledge_materials VALUES (6, 'Material 6', '/app/.data/knowledge/6/规范.docx', 8620, '{"lang": "en", "pages": 11}');
INSERT INTO knowledge_materials VALUES (7, 'Material 7', '/app/.data/knowledge/7/notes (v2).txt', 11480, '{"lang": "en", "pages": 3}');
INSERT INTO knowledge_materials VALUES (8, 'Material 8', '/app/.data/knowledge/8/pricing sheet.xlsx', 881, '{"lang": "zh", "pages": 8}');
INSERT INTO knowledge_materials VALUES (9, 'Material 9', '/app/.data/knowledge/9/pricing sheet.xlsx', 8097, '{"lang": "zh", "pages": 32}');
INSERT INTO knowledge_materials VALUES (10, 'Material 10', '/app/.data/knowledge/10/pricing sheet.xlsx', 8193, '{"lang": "en", "pages": 8}');
INSERT INTO knowledge_materials VALUES (11, 'Material 11', '/app/.data/knowledge/11/faq.md', 2384, '{"lang": "zh", "pages": 31}');
INSERT INTO knowledge_materials VALUES (12, 'Material 12', '/app/.data/knowledge/12/规范.docx', 1145, '{"lang": "zh", "pages": 28}');
INSERT INTO knowledge_materials VALUES (13, 'Material 13', '/app/.data/knowledge/13/faq.md', 10388, '{"lang": "zh", "pages": 40}');
INSERT INTO knowledge_materials VALUES (14, 'Material 14', '/app/.data/knowledge/14/handbook.pdf', 1452, '{"lang": "en", "pages": 12}');
INSERT INTO knowledge_materials VALUES (15, 'Material 15', '/app/.data/knowledge/15/handbook.pdf', 2406, '{"lang": "zh", "pages": 29}');
INSERT INTO knowledge_materials VALUES (16, 'Material 16', '/app/.data/knowledge/16/faq.md', 8928, '{"lang": "en", "pages": 30}');
INSERT INTO knowledge_materials VALUES (17, 'Material 17', '/app/.data/knowledge/17/handbook.pdf', 11565, '{"lang": "en", "pages": 33}');
INSERT INTO knowledge_materials VALUES (18, 'Material 18', '/app/.data/knowledge/18/pricing sheet.xlsx', 11107, '{"lang": "en", "pages": 22}');
INSERT INTO knowledge_materials VALUES (19, 'Material 19', '/app/.data/knowledge/19/notes (v2).txt', 3497, '{"lang": "en", "pages": 21}');
INSERT INTO knowledge_materials VALUES (20, 'Material 20', '/app/.data/knowledge/20/规范.docx', 7048, '{"lang": "en", "pages": 34}');
INSERT INTO knowledge_materials VALUES (21, 'Material 21', '/app/.data/knowledge/21/handbook.pdf', 7305, '{"lang": "en", "pages": 39}');
INSERT INTO knowledge_materials VALUES (22, 'Material 22', '/app/.data/knowledge/22/handbook.pdf', 6132, '{"lang": "zh", "pages": 3}');
INSERT INTO knowledge_materials VALUES (23, 'Material 23', '/app/.data/knowledge/23/handbook.pdf', 6645, '{"lang": "zh", "pages": 31}');
INSERT INTO knowledge_materials VALUES (24, 'Material 24', '/app/.data/knowledge/24/notes (v2).txt', 5072, '{"lang": "zh", "pages": 13}');
INSERT INTO knowledge_materials VALUES (25, 'Material 25', '/app/.data/knowledge/25/faq.md', 2519, '{"lang": "en", "pages": 7}');
INSERT INTO knowledge_materials VALUES (26, 'Material 26', '/app/.data/knowledge/26/handbook.pdf', 5250, '{"lang": "en", "pages": 31}');
INSERT INTO knowledge_materials VALUES (27, 'Material 27', '/app/.data/knowledge/27/handbook.pdf', 5002, '{"lang": "zh", "pages": 15}');
INSERT INTO knowledge_materials VALUES (28, 'Material 28', '/app/.data/knowledge/28/handbook.pdf', 8045, '{"lang": "en", "pages": 28}');
INSERT INTO knowledge_materials VALUES (29, 'Material 29', '/app/.data/knowledge/29/规范.docx', 7534, '{"lang": "en", "pages": 22}');
INSERT INTO knowledge_materials VALUES (30, 'Material 30', '/app/.data/knowledge/30/handbook.pdf', 9959, '{"lang": "zh", "pages": 24}');
INSERT INTO knowledge_materials VALUES (31, 'Material 31', '/app/.data/knowledge/31/handbook.pdf', 4719, '{"lang": "zh", "pages": 19}');
INSERT INTO knowledge_materials VALUES (32, 'Material 32', '/app/.data/knowledge/32/pricing sheet.xlsx', 11416, '{"lang": "zh", "pages": 31}');
INSERT INTO knowledge_materials VALUES (33, 'Material 33', '/app/.data/knowledge/33/pricing sheet.xlsx', 3193, '{"lang": "zh", "pages": 25}');
INSERT INTO knowledge_materials VALUES (34, 'Material 34', '/app/.data/knowledge/34/faq.md', 11663, '{"lang": "en", "pages": 10}');
INSERT INTO knowledge_materials VALUES (35, 'Material 35', '/app/.data/knowledge/35/handbook.pdf', 4492, '{"lang": "zh", "pages": 36}');
INSERT INTO knowledge_materials VALUES (36, 'Material 36', '/app/.data/knowledge/36/规范.docx', 5948, '{"lang": "en", "pages": 10}');
INSERT INTO knowledge_materials VALUES (37, 'Material 37', '/app/.data/knowledge/37/notes (v2).txt', 10529, '{"lang": "en", "pages": 28}');
INSERT INTO knowledge_materials VALUES (38, 'Material 38', '/app/.data/knowledge/38/handbook.pdf', 7426, '{"lang": "zh", "pages": 22}');
INSERT INTO knowledge_materials VALUES (39, 'Material 39', '/app/.data/knowledge/39/pricing sheet.xlsx', 11194, '{"lang": "zh", "pages": 16}');
INSERT INTO knowledge_materials VALUES (40, 'Material 40', '/app/.data/knowledge/40/pricing sheet.xlsx', 1362, '{"lang": "en", "pages": 17}');
INSERT INTO ugc_assets VALUES (1, 2, '/app/.data/ugc/2/0001.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '1 hours');
INSERT INTO ugc_assets VALUES (2, 3, '/app/.data/ugc/3/0002.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '2 hours');
INSERT INTO ugc_assets VALUES (3, 4, '/app/.data/ugc/4/0003.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '3 hours');
INSERT INTO ugc_assets VALUES (4, 5, '/app/.data/ugc/5/0004.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '4 hours');
INSERT INTO ugc_assets VALUES (5, 6, '/app/.data/ugc/6/0005.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '5 hours');
INSERT INTO ugc_assets VALUES (6, 7, '/app/.data/ugc/7/0006.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '6 hours');
INSERT INTO ugc_assets VALUES (7, 8, '/app/.data/ugc/8/0007.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '7 hours');
INSERT INTO ugc_assets VALUES (8, 9, '/app/.data/ugc/9/0008.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '8 hours');
INSERT INTO ugc_assets VALUES (9, 10, '/app/.data/ugc/10/0009.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '9 hours');
INSERT INTO ugc_assets VALUES (10, 11, '/app/.data/ugc/11/0010.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '10 hours');
INSERT INTO ugc_assets VALUES (11, 12, NULL, '2025-06-01 12:00:00+00'::timestamptz + interval '11 hours');
INSERT INTO ugc_assets VALUES (12, 13, '/app/.data/ugc/13/0012.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '12 hours');
INSERT INTO ugc_assets VALUES (13, 14, '/app/.data/ugc/14/0013.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '13 hours');
INSERT INTO ugc_assets VALUES (14, 15, '/app/.data/ugc/15/0014.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '14 hours');
INSERT INTO ugc_assets VALUES (15, 1, '/app/.data/ugc/1/0015.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '15 hours');
INSERT INTO ugc_assets VALUES (16, 2, '/app/.data/ugc/2/0016.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '16 hours');
INSERT INTO ugc_assets VALUES (17, 3, '/app/.data/ugc/3/0017.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '17 hours');
INSERT INTO ugc_assets VALUES (18, 4, '/app/.data/ugc/4/0018.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '18 hours');
INSERT INTO ugc_assets VALUES (19, 5, '/app/.data/ugc/5/0019.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '19 hours');
INSERT INTO ugc_assets VALUES (20, 6, '/app/.data/ugc/6/0020.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '20 hours');
INSERT INTO ugc_assets VALUES (21, 7, '/app/.data/ugc/7/0021.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '21 hours');
INSERT INTO ugc_assets VALUES (22, 8, NULL, '2025-06-01 12:00:00+00'::timestamptz + interval '22 hours');
INSERT INTO ugc_assets VALUES (23, 9, '/app/.data/ugc/9/0023.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '23 hours');
INSERT INTO ugc_assets VALUES (24, 10, '/app/.data/ugc/10/0024.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '24 hours');
INSERT INTO ugc_assets VALUES (25, 11, '/app/.data/ugc/11/0025.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '25 hours');
INSERT INTO ugc_assets VALUES (26, 12, '/app/.data/ugc/12/0026.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '26 hours');
INSERT INTO ugc_assets VALUES (27, 13, '/app/.data/ugc/13/0027.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '27 hours');
INSERT INTO ugc_assets VALUES (28, 14, '/app/.data/ugc/14/0028.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '28 hours');
INSERT INTO ugc_assets VALUES (29, 15, '/app/.data/ugc/15/0029.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '29 hours');
INSERT INTO ugc_assets VALUES (30, 1, '/app/.data/ugc/1/0030.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '30 hours');
INSERT INTO ugc_assets VALUES (31, 2, '/app/.data/ugc/2/0031.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '31 hours');
INSERT INTO ugc_assets VALUES (32, 3, '/app/.data/ugc/3/0032.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '32 hours');
INSERT INTO ugc_assets VALUES (33, 4, NULL, '2025-06-01 12:00:00+00'::timestamptz + interval '33 hours');
INSERT INTO ugc_assets VALUES (34, 5, '/app/.data/ugc/5/0034.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '34 hours');
INSERT INTO ugc_assets VALUES (35, 6, '/app/.data/ugc/6/0035.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '35 hours');
INSERT INTO ugc_assets VALUES (36, 7, '/app/.data/ugc/7/0036.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '36 hours');
INSERT INTO ugc_assets VALUES (37, 8, '/app/.data/ugc/8/0037.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '37 hours');
INSERT INTO ugc_assets VALUES (38, 9, '/app/.data/ugc/9/0038.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '38 hours');
INSERT INTO ugc_assets VALUES (39, 10, '/app/.data/ugc/10/0039.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '39 hours');
INSERT INTO ugc_assets VALUES (40, 11, '/app/.data/ugc/11/0040.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '40 hours');
INSERT INTO ugc_assets VALUES (41, 12, '/app/.data/ugc/12/0041.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '41 hours');
INSERT INTO ugc_assets VALUES (42, 13, '/app/.data/ugc/13/0042.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '42 hours');
INSERT INTO ugc_assets VALUES (43, 14, '/app/.data/ugc/14/0043.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '43 hours');
INSERT INTO ugc_assets VALUES (44, 15, NULL, '2025-06-01 12:00:00+00'::timestamptz + interval '44 hours');
INSERT INTO ugc_assets VALUES (45, 1, '/app/.data/ugc/1/0045.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '45 hours');
INSERT INTO ugc_assets VALUES (46, 2, '/app/.data/ugc/2/0046.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '46 hours');
INSERT INTO ugc_assets VALUES (47, 3, '/app/.data/ugc/3/0047.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '47 hours');
INSERT INTO ugc_assets VALUES (48, 4, '/app/.data/ugc/4/0048.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '48 hours');
INSERT INTO ugc_assets VALUES (49, 5, '/app/.data/ugc/5/0049.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '49 hours');
INSERT INTO ugc_assets VALUES (50, 6, '/app/.data/ugc/6/0050.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '50 hours');
INSERT INTO ugc_assets VALUES (51, 7, '/app/.data/ugc/7/0051.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '51 hours');
INSERT INTO ugc_assets VALUES (52, 8, '/app/.data/ugc/8/0052.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '52 hours');
INSERT INTO ugc_assets VALUES (53, 9, '/app/.data/ugc/9/0053.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '53 hours');
INSERT INTO ugc_assets VALUES (54, 10, '/app/.data/ugc/10/0054.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '54 hours');
INSERT INTO ugc_assets VALUES (55, 11, NULL, '2025-06-01 12:00:00+00'::timestamptz + interval '55 hours');
INSERT INTO ugc_assets VALUES (56, 12, '/app/.data/ugc/12/0056.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '56 hours');
INSERT INTO ugc_assets VALUES (57, 13, '/app/.data/ugc/13/0057.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '57 hours');
INSERT INTO ugc_assets VALUES (58, 14, '/app/.data/ugc/14/0058.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '58 hours');
INSERT INTO ugc_assets VALUES (59, 15, '/app/.data/ugc/15/0059.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '59 hours');
INSERT INTO ugc_assets VALUES (60, 1, '/app/.data/ugc/1/0060.jpg', '2025-06-01 12:00:00+00'::timestamptz + interval '60 hours');
INSERT INTO gallery_items VALUES (1, 2, 'Gallery 1', '/app/.data/gallery/1/');
INSERT INTO gallery_items VALUES (2, 3, 'Gallery 2', '/app/.data/gallery/2/');
INSERT INTO gallery_items VALUES (3, 4, 'Gallery 3', '/app/.data/gallery/3/');
INSERT INTO gallery_items VALUES (4, 5, 'Gallery 4', '/app/.data/gallery/4/');
INSERT INTO gallery_items VALUES (5, 6, 'Gallery 5', '/app/.data/gallery/5/');
INSERT INTO gallery_items VALUES (6, 7, 'Gallery 6', '/app/.data/gallery/6/');
INSERT INTO gallery_items VALUES (7, 8, 'Gallery 7', '/app/.data/gallery/7/');
INSERT INTO gallery_items VALUES (8, 9, 'Gallery 8', '/app/.data/gallery/8/');
INSERT INTO gallery_items VALUES (9, 10, 'Gallery 9', '/app/.data/gallery/9/');
INSERT INTO gallery_items VALUES (10, 11, 'Gallery 10', '/app/.data/gallery/10/');
INSERT INTO gallery_items VALUES (11, 12, 'Gallery 11', '/app/.data/gallery/11/');
INSERT INTO gallery_items VALUES (12, 13, 'Gallery 12', '/app/.data/gallery/12/');
